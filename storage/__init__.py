"""Persistence: engine, models, repositories and Alembic migrations."""
