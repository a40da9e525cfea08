"""lapce-ai: semantic code search over concrete syntax trees."""

__version__ = "0.1.0"
