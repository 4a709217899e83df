"""Prometheus metrics, one registry per process (tests build their own)."""
from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter


class Metrics:
    def __init__(self, registry: CollectorRegistry | None = None):
        self.registry = registry or CollectorRegistry()
        self.feedback_accepted = Counter(
            "loopbot_feedback_accepted", "Feedback items stored", ["team"], registry=self.registry)
        self.feedback_duplicates = Counter(
            "loopbot_feedback_duplicates", "Feedback items skipped as already stored", registry=self.registry)
        self.feedback_rejected = Counter(
            "loopbot_feedback_rejected", "Ingestion requests refused, by HTTP status", ["status"], registry=self.registry)
        self.cases_opened = Counter(
            "loopbot_cases_opened", "Cases opened", ["team", "kind"], registry=self.registry)
