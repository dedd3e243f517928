"""Machine translation backends (registry.translators)."""
