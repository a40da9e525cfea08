"""Find, parse and validate the configuration (SPEC §6).

Order: ``--config FILE``, else ``$LAPCE_AI_CONFIG``, else ``/etc/lapce-ai/config.toml`` if it
exists, else built-in defaults. Environment overrides are applied last. Every problem is reported
with the key and, where the file has it, the line.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from lapce_ai.config.settings import Settings, default_data_home

SYSTEM_CONFIG = Path("/etc/lapce-ai/config.toml")

# Environment variable -> (section, key). The runbook's names plus SPEC §6's additions.
ENV_OVERRIDES: dict[str, tuple[str, str]] = {
    "CST_PIPELINE_ENABLED": ("features", "cst_pipeline_enabled"),
    "CST_ROLLOUT_PERCENTAGE": ("features", "rollout_percentage"),
    "CST_INCREMENTAL_INDEXING": ("features", "incremental_indexing"),
    "CST_TIERED_CACHE": ("features", "tiered_cache"),
    "CST_EMBEDDING_REUSE": ("features", "embedding_reuse"),
    "CST_LEGACY_FALLBACK": ("features", "legacy_fallback"),
    "AWS_REGION": ("aws", "region"),
    "LOG_LEVEL": ("service", "log_level"),
}


@dataclass(frozen=True)
class ConfigProblem:
    key: str
    message: str
    line: int | None = None
    source: str = ""

    def __str__(self) -> str:
        where = f"{self.source}:{self.line}: " if self.line else (f"{self.source}: " if self.source else "")
        return f"{where}{self.key}: {self.message}"


class ConfigError(Exception):
    """The configuration is invalid; ``problems`` names every bad key."""

    def __init__(self, problems: list[ConfigProblem]):
        self.problems = problems
        super().__init__("; ".join(str(p) for p in problems))


@dataclass(frozen=True)
class LoadedConfig:
    settings: Settings
    source: Path | None  # None: built-in defaults


def resolve_config_path(explicit: str | os.PathLike[str] | None) -> Path | None:
    if explicit:
        return Path(explicit)
    env = os.environ.get("LAPCE_AI_CONFIG")
    if env:
        return Path(env)
    if SYSTEM_CONFIG.is_file():
        return SYSTEM_CONFIG
    return None


def load_config(
    explicit: str | os.PathLike[str] | None = None, environ: Mapping[str, str] | None = None
) -> LoadedConfig:
    path = resolve_config_path(explicit)
    env = os.environ if environ is None else environ
    if path is None:
        raw: dict[str, Any] = _embedded_defaults()
        text = ""
        source = "<defaults>"
    else:
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError([ConfigProblem("<file>", f"cannot read config: {exc}", source=str(path))]) from exc
        try:
            raw = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            line = _toml_error_line(str(exc))
            raise ConfigError([ConfigProblem("<syntax>", str(exc), line=line, source=str(path))]) from exc
        source = str(path)
    problems = _apply_env(raw, env)
    try:
        settings = Settings.model_validate(raw)
    except ValidationError as exc:
        problems.extend(_problems_from(exc, text, source))
    if problems:
        raise ConfigError(problems)
    return LoadedConfig(settings=settings, source=path)


def _embedded_defaults() -> dict[str, Any]:
    home = default_data_home()
    return {
        "paths": {"index_dir": str(home / "indices"), "cache_dir": str(home / "cache")},
        "workspaces": {"roots": [str(Path.cwd())]},
    }


def _apply_env(raw: dict[str, Any], env: Mapping[str, str]) -> list[ConfigProblem]:
    problems: list[ConfigProblem] = []
    for var, (section, key) in ENV_OVERRIDES.items():
        value = env.get(var)
        if value is None or value == "":
            continue
        if key == "log_level":
            value = value.lower()
        table = raw.setdefault(section, {})
        if not isinstance(table, dict):
            problems.append(ConfigProblem(section, "must be a table", source=var))
            continue
        table[key] = _coerce_env(value)
    return problems


def _coerce_env(value: str) -> Any:
    low = value.strip().lower()
    if low in {"true", "yes", "on", "1"} and not low.isdigit():
        return True
    if low in {"false", "no", "off"}:
        return False
    if re.fullmatch(r"-?\d+", low):
        return int(low)
    return value


def _problems_from(exc: ValidationError, text: str, source: str) -> list[ConfigProblem]:
    out = []
    for err in exc.errors():
        loc = [str(p) for p in err["loc"]]
        key = ".".join(loc)
        msg = "unknown key" if err["type"] == "extra_forbidden" else err["msg"]
        out.append(ConfigProblem(key, msg, line=_find_line(text, loc), source=source))
    return out


def _find_line(text: str, loc: list[str]) -> int | None:
    """Best-effort line of ``section.key`` in a TOML text (tomllib keeps no positions)."""
    if not text or not loc:
        return None
    section, key = (loc[0], loc[1]) if len(loc) > 1 else (None, loc[0])
    current: str | None = None
    for number, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        header = re.fullmatch(r"\[\s*([^\]]+?)\s*\]", stripped.split("#", 1)[0].strip())
        if header:
            current = header.group(1)
            if section is not None and current == section and key.isdigit():
                return number
            if section is None and current == key:
                return number
            continue
        if current == section and re.match(rf"{re.escape(key)}\s*=", stripped):
            return number
    return None


def _toml_error_line(message: str) -> int | None:
    match = re.search(r"line (\d+)", message)
    return int(match.group(1)) if match else None
