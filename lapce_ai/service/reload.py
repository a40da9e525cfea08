"""Configuration reload (SIGHUP): what may change in a running process, and what needs a restart.

A reload reads the file again, validates it completely, and only then swaps it in; an invalid file
changes nothing. Keys that cannot change under a running process (the listening address, the index
location, the embedder) keep their running values and are reported as "pending restart".
"""

from __future__ import annotations

import ipaddress
import logging
import socket
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lapce_ai.config import ConfigError, ConfigProblem, EnvOverride, Settings, load_config, warn_env_overrides

# (section, key) pairs a running process keeps; "*" is the whole section.
RESTART_ONLY: frozenset[tuple[str, str]] = frozenset(
    {
        ("service", "host"),
        ("service", "port"),
        ("paths", "*"),
        ("embedder", "*"),
        ("performance", "search_workers"),
        ("performance", "query_vector_cache"),
    }
)


def is_loopback(host: str) -> bool:
    if host in ("localhost", "localhost.localdomain"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(host, None)
    except OSError:
        return False
    addrs = {info[4][0] for info in infos}
    return bool(addrs) and all(ipaddress.ip_address(str(a).split("%")[0]).is_loopback for a in addrs)


def service_problems(settings: Settings, source: str = "") -> list[ConfigProblem]:
    """Checks beyond the schema that only the service needs (SPEC §5 safety)."""
    problems = []
    svc = settings.service
    if not is_loopback(svc.host) and not (svc.auth_token or "").strip():
        problems.append(
            ConfigProblem(
                "service.auth_token",
                f"required when service.host ({svc.host}) is not a loopback address",
                source=source,
            )
        )
    return problems


def flatten(settings: Settings) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for section, values in settings.model_dump(mode="json").items():
        for key, value in values.items():
            out[f"{section}.{key}"] = value
    return out


def _restart_only(dotted: str) -> bool:
    section, key = dotted.split(".", 1)
    return (section, key) in RESTART_ONLY or (section, "*") in RESTART_ONLY


def merge_for_reload(running: Settings, new: Settings) -> tuple[Settings, list[str], list[str]]:
    """(effective settings, keys changed now, keys whose change waits for a restart)."""
    service = new.service.model_copy(update={"host": running.service.host, "port": running.service.port})
    kept = {key: getattr(running.performance, key) for section, key in RESTART_ONLY if section == "performance"}
    performance = new.performance.model_copy(update=kept)
    effective = new.model_copy(
        update={"service": service, "performance": performance, "paths": running.paths, "embedder": running.embedder}
    )
    old_flat, new_flat, eff_flat = flatten(running), flatten(new), flatten(effective)
    pending = sorted(k for k in new_flat if _restart_only(k) and new_flat[k] != old_flat.get(k))
    changed = sorted(k for k in eff_flat if eff_flat[k] != old_flat.get(k))
    return effective, changed, pending


@dataclass
class ReloadOutcome:
    ok: bool
    at: float = field(default_factory=time.time)
    changed: list[str] = field(default_factory=list)
    pending_restart: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    source: str | None = None
    # Keys the file sets that an environment variable overrides: a change to them in the file
    # takes no effect (and is not in ``changed``); the reload warns about each.
    env_overrides: list[EnvOverride] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "status": "ok" if self.ok else "failed",
            "at": round(self.at, 3),
            "changed": self.changed,
            "pending_restart": self.pending_restart,
            "problems": self.problems,
            "source": self.source,
            "env_overrides": [str(o) for o in self.env_overrides],
        }


def log_reloaded(log: logging.Logger, outcome: ReloadOutcome, **extra: Any) -> None:
    """The "config reloaded" record, then a warning for each file key an environment variable
    overrides (an edit of it in the file changed nothing, so ``changed`` may be empty)."""
    log.info(
        "config reloaded",
        extra={
            "changed": outcome.changed,
            "pending_restart": outcome.pending_restart,
            "env_overridden": [o.key for o in outcome.env_overrides],
            **extra,
        },
    )
    warn_env_overrides(outcome.env_overrides, log)


def load_for_reload(
    config_path: str | None,
    running: Settings,
    overrides: dict[str, dict[str, Any]] | None = None,
    check_service: bool = True,
) -> tuple[Settings, ReloadOutcome]:
    """Read and validate the config again. On any problem: the running settings and a failed outcome."""
    try:
        loaded = load_config(config_path)
    except ConfigError as exc:
        source = str(exc.source) if exc.source else config_path
        return running, ReloadOutcome(ok=False, problems=[str(p) for p in exc.problems], source=source)
    new = apply_overrides(loaded.settings, overrides or {})
    source = str(loaded.source) if loaded.source else None
    effective, changed, pending = merge_for_reload(running, new)
    problems = service_problems(effective, source or "") if check_service else []
    if problems:
        return running, ReloadOutcome(ok=False, problems=[str(p) for p in problems], source=source)
    outcome = ReloadOutcome(
        ok=True, changed=changed, pending_restart=pending, source=source, env_overrides=list(loaded.env_overrides)
    )
    return effective, outcome


def apply_overrides(settings: Settings, overrides: dict[str, dict[str, Any]]) -> Settings:
    """Command-line overrides (``--host``, ``--port``, ``--index``), validated like the file."""
    update: dict[str, Any] = {}
    for section, values in overrides.items():
        if not values:
            continue
        current = getattr(settings, section)
        update[section] = type(current).model_validate({**current.model_dump(), **values})
    return settings.model_copy(update=update) if update else settings


def config_source(path: Path | None) -> str | None:
    return str(path) if path else None
