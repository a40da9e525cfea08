"""Find, parse and validate the configuration (SPEC §6).

Order: ``--config FILE``, else ``$LAPCE_AI_CONFIG``, else ``/etc/lapce-ai/config.toml`` if it
exists, else built-in defaults. Environment overrides are applied last. Every problem is reported
with the key and its source: the file and, where the file has it, the line; or the environment
variable that set it.

The file is validated strictly: TOML values are typed, so a boolean is not an integer and a string
is neither (an integer where a number is expected is fine). Environment variables are strings by
nature and are converted (``CST_ROLLOUT_PERCENTAGE=50``, ``CST_PIPELINE_ENABLED=true``); a string
that does not convert is an error naming the variable. A key the file sets and a variable overrides
is reported (``LoadedConfig.env_overrides``), since editing it in the file then changes nothing.
"""

from __future__ import annotations

import logging
import os
import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

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


# Keys and values never shown in a message: tokens, passwords, AWS keys.
_SECRET_KEY = re.compile(r"(?i)token|secret|password|passphrase|credential|access_key|private_key|api_key")
_SECRET_VALUE = re.compile(r"\b(A3T[A-Z0-9]|AKIA|ASIA|AGPA|AIDA|AROA|ANPA|ANVA)[A-Z0-9]{16}\b|(?i:bearer\s)")


def shown(key: str, value: str) -> str:
    """``value`` as a message may show it: ``[REDACTED]`` for a secret key or a secret-looking value."""
    return "[REDACTED]" if _SECRET_KEY.search(key) or _SECRET_VALUE.search(value) else value


@dataclass(frozen=True)
class EnvOverride:
    """A key the file sets that an environment variable overrides: the variable wins."""

    key: str  # section.key
    var: str
    file_value: Any  # as the file has it
    env_value: str  # as the environment has it
    source: str  # the file
    line: int | None = None
    agrees: bool = False  # the variable sets the value the file has (the runbook's own set-up)

    @property
    def shown_file_value(self) -> str:
        return shown(self.key, _toml_text(self.file_value))

    @property
    def shown_env_value(self) -> str:
        return shown(self.key, self.env_value)

    def __str__(self) -> str:
        where = f"{self.source}:{self.line}" if self.line else self.source
        return (
            f"{self.key} = {self.shown_file_value} in {where} is overridden by {self.var}={self.shown_env_value}; "
            f"editing this key in the file has no effect while {self.var} is set"
        )

    def log_fields(self) -> dict[str, Any]:
        return {
            "config_key": self.key,
            "env_var": self.var,
            "file_value": self.shown_file_value,
            "env_value": self.shown_env_value,
            "config_source": self.source,
        }


class ConfigError(Exception):
    """The configuration is invalid; ``problems`` names every bad key, ``source`` the file read."""

    def __init__(
        self,
        problems: list[ConfigProblem],
        source: Path | None = None,
        env_overrides: Iterable[EnvOverride] = (),
    ):
        self.problems = problems
        self.source = source  # None: built-in defaults
        self.env_overrides = tuple(env_overrides)
        super().__init__("; ".join(str(p) for p in problems))


@dataclass(frozen=True)
class LoadedConfig:
    settings: Settings
    source: Path | None  # None: built-in defaults
    env_overrides: tuple[EnvOverride, ...] = ()


def warn_env_overrides(overrides: Iterable[EnvOverride], logger: logging.Logger | None = None) -> None:
    """One record per file key an environment variable overrides (at start-up and at each
    reload): a warning where the two values differ, so an edit of the file that changes nothing
    is never silent; INFO where they agree, as in the runbook's own set-up."""
    log = logger or logging.getLogger("lapce_ai.config")
    for override in overrides:
        level = logging.INFO if override.agrees else logging.WARNING
        log.log(level, "config key overridden by the environment: %s", override, extra=override.log_fields())


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
            problem = ConfigProblem("<file>", f"cannot read config: {exc}", source=str(path))
            raise ConfigError([problem], source=path) from exc
        try:
            raw = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            line = _toml_error_line(str(exc))
            raise ConfigError([ConfigProblem("<syntax>", str(exc), line=line, source=str(path))], source=path) from exc
        source = str(path)
    problems: list[ConfigProblem] = []
    as_written: Settings | None = None
    try:
        as_written = Settings.model_validate(raw, strict=True)  # the file as written: its values are typed
    except ValidationError as exc:
        problems.extend(_problems_from(exc, text, source))
    env_values, env_problems = _env_values(env)
    problems.extend(env_problems)
    overrides = _env_overrides(raw, env_values, text, source) if path is not None else []
    if problems:
        raise ConfigError(problems, source=path, env_overrides=overrides)
    if as_written is not None and not env_values:  # nothing to merge: the file's settings are the answer
        return LoadedConfig(settings=as_written, source=path, env_overrides=tuple(overrides))
    merged = {section: dict(table) if isinstance(table, dict) else table for section, table in raw.items()}
    for (section, key), (_var, _text, value) in env_values.items():
        merged.setdefault(section, {})[key] = value
    try:
        settings = Settings.model_validate(merged, strict=True)
    except ValidationError as exc:  # not expected: the file and each variable passed on their own
        raise ConfigError(_problems_from(exc, "", "environment"), source=path, env_overrides=overrides) from exc
    return LoadedConfig(settings=settings, source=path, env_overrides=tuple(overrides))


def _embedded_defaults() -> dict[str, Any]:
    home = default_data_home()
    return {
        "paths": {"index_dir": str(home / "indices"), "cache_dir": str(home / "cache")},
        "workspaces": {"roots": [str(Path.cwd())]},
    }


def _section_model(section: str) -> type[BaseModel]:
    model = Settings.model_fields[section].annotation
    assert isinstance(model, type) and issubclass(model, BaseModel)
    return model


def _env_values(env: Mapping[str, str]) -> tuple[dict[tuple[str, str], tuple[str, str, Any]], list[ConfigProblem]]:
    """The overrides the environment sets: (section, key) -> (variable, its text, the converted value).

    A variable's text is converted to the key's type (``"50"`` -> 50, ``"true"``/``"1"``/``"yes"`` ->
    True); text that does not convert is a problem naming the variable and its value.
    """
    values: dict[tuple[str, str], tuple[str, str, Any]] = {}
    problems: list[ConfigProblem] = []
    for var, (section, key) in ENV_OVERRIDES.items():
        text = env.get(var)
        if text is None or not text.strip():
            continue
        value = text.strip().lower() if key == "log_level" else text.strip()
        try:
            converted = getattr(_section_model(section).model_validate({key: value}), key)
        except ValidationError as exc:
            where = f"{var}={shown(key, text)}"
            problems.extend(ConfigProblem(f"{section}.{key}", err["msg"], source=where) for err in exc.errors())
            continue
        values[(section, key)] = (var, text, converted)
    return values, problems


def _env_overrides(
    raw: dict[str, Any], env_values: dict[tuple[str, str], tuple[str, str, Any]], text: str, source: str
) -> list[EnvOverride]:
    out = []
    for (section, key), (var, env_text, value) in env_values.items():
        table = raw.get(section)
        if isinstance(table, dict) and key in table:
            line = _find_line(text, [section, key])
            agrees = type(table[key]) is type(value) and table[key] == value
            out.append(EnvOverride(f"{section}.{key}", var, table[key], env_text, source, line, agrees))
    return out


def _toml_text(value: Any) -> str:
    """A file value as TOML writes it (``true``, ``50``, ``"us-east-1"``)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return str(value)


# pydantic's type errors, and the TOML type a value of the file had instead.
_TYPE_ERRORS = {"int_type", "bool_type", "float_type", "string_type", "list_type", "dict_type", "model_type"}
_TOML_TYPES = ((bool, "a boolean"), (int, "an integer"), (float, "a float"), (str, "a string"), (list, "an array"))


def _toml_type(value: Any) -> str:
    for kind, name in _TOML_TYPES:
        if isinstance(value, kind):
            return name
    return "a table" if isinstance(value, dict) else f"a {type(value).__name__}"


def _problems_from(exc: ValidationError, text: str, source: str) -> list[ConfigProblem]:
    out = []
    for err in exc.errors():
        loc = [str(p) for p in err["loc"]]
        key = ".".join(loc)
        msg = "unknown key" if err["type"] == "extra_forbidden" else err["msg"]
        if err["type"] == "is_instance_of":  # a path that is not a string
            msg = "Input should be a string (a path)"
        if err["type"] in _TYPE_ERRORS | {"is_instance_of"} and source != "environment":
            msg = f"{msg}, got {_toml_type(err['input'])} (the file's types are strict)"
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
