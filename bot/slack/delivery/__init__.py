"""Delivering the outbox to Slack: one worker (worker.py) and one handler per kind of post; lanes.py wires them."""
