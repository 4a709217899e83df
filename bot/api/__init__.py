"""HTTP edge: the FastAPI app serving ingestion, health and metrics."""
