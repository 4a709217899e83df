"""Feedback in: the schema, ingestion, PII masking, categories and CSV import."""
