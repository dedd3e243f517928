"""`xlner translate-test` / `xlner translate-train` (placeholder until implemented)."""
