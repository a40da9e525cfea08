"""Observability: Prometheus metrics, JSON logs (with the indexer's events relayed to the service's
log) and the running build's identity."""
