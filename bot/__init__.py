"""Loopbot core: the case lifecycle, ingestion and analytics, free of Slack."""
