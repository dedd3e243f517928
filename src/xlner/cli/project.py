"""`xlner project` (placeholder until implemented)."""
