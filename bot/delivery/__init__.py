"""Delivery: the outbox of posts, claims of scheduled fires, and retention."""
