"""Command-line entry points: ``lapce-index``, ``lapce-ai-service`` and ``lapce-ai-indexer`` (one
release binary runs all three by the name it is called by)."""
