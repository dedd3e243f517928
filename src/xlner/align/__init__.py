"""Word aligners (registered by name in xlner.registry.registry.aligners)."""
