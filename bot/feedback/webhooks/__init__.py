"""Survey tools' webhooks (SPEC §10): each tool's signature and payload, mapped to a feedback item."""
