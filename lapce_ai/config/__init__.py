"""Configuration: one TOML file for every command, with env overrides (SPEC §6)."""

from lapce_ai.config.loader import ConfigError, ConfigProblem, LoadedConfig, load_config
from lapce_ai.config.settings import Settings

__all__ = ["ConfigError", "ConfigProblem", "LoadedConfig", "Settings", "load_config"]
