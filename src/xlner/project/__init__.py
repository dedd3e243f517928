"""Projection of source entity spans onto target sentences."""
