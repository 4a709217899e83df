"""Slack surfaces: one module per surface, each with register(app)."""
