"""Time-driven work run by the scheduler."""
