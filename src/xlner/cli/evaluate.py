"""`xlner evaluate` (placeholder until implemented)."""
