"""`xlner align` (placeholder until implemented)."""
