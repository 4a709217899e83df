"""Configuration: environment settings and the YAML team model."""
