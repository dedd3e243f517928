"""Source-language NER taggers (registry.taggers)."""
