"""Configuration: one TOML file for every command, with env overrides (SPEC §6)."""

from lapce_ai.config.loader import (
    ConfigError,
    ConfigProblem,
    EnvOverride,
    LoadedConfig,
    load_config,
    warn_env_overrides,
)
from lapce_ai.config.settings import Settings

__all__ = [
    "ConfigError",
    "ConfigProblem",
    "EnvOverride",
    "LoadedConfig",
    "Settings",
    "load_config",
    "warn_env_overrides",
]
