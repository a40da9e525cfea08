"""``lapce-ai-service``: the HTTP search service (SPEC §5).

    lapce-ai-service [--config FILE] [--check-config] [--host HOST] [--port PORT] [--index DIR]

Exit codes: 0 after a clean shutdown (SIGTERM drains in-flight requests first) or a valid
``--check-config``; 1 for an invalid configuration, a busy port or any other reason the service
cannot start — always with one line saying why.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any, TextIO

from pydantic import ValidationError

from lapce_ai.config import ConfigError, ConfigProblem, EnvOverride, LoadedConfig, Settings, load_config
from lapce_ai.observability.build import version_line
from lapce_ai.service.maththreads import one_math_thread_per_search


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="lapce-ai-service", description="Semantic code search HTTP service")
    p.add_argument("--version", action="version", version=version_line(p.prog))
    p.add_argument("--config", help="config file (default: $LAPCE_AI_CONFIG, else /etc/lapce-ai/config.toml)")
    p.add_argument("--check-config", action="store_true", help="validate the configuration and exit (0 valid, 1 not)")
    p.add_argument("--host", help="listen address (default: [service] host, 127.0.0.1)")
    p.add_argument("--port", type=int, help="listen port (default: [service] port, 8080)")
    p.add_argument("--index", help="index directory (default: [paths] index_dir)")
    return p


def overrides_from(args: argparse.Namespace) -> dict[str, dict[str, Any]]:
    service: dict[str, Any] = {}
    if args.host:
        service["host"] = args.host
    if args.port is not None:
        service["port"] = args.port
    paths: dict[str, Any] = {"index_dir": args.index} if args.index else {}
    return {"service": service, "paths": paths}


def resolve(args: argparse.Namespace) -> tuple[LoadedConfig, Settings, list[ConfigProblem]]:
    from lapce_ai.service.reload import apply_overrides, service_problems

    loaded = load_config(args.config)
    source = str(loaded.source) if loaded.source else "<defaults>"
    try:
        settings = apply_overrides(loaded.settings, overrides_from(args))
    except ValidationError as exc:
        problems = [
            ConfigProblem(".".join(str(p) for p in e["loc"]) or "argument", e["msg"], source="command line")
            for e in exc.errors()
        ]
        return loaded, loaded.settings, problems
    return loaded, settings, service_problems(settings, source)


def main(argv: list[str] | None = None) -> None:
    one_math_thread_per_search()
    args = build_parser().parse_args(argv)
    loaded: LoadedConfig | None
    try:
        loaded, settings, problems = resolve(args)
        read, env_overrides = loaded.source, loaded.env_overrides
    except ConfigError as exc:
        loaded, problems, read, env_overrides = None, exc.problems, exc.source, exc.env_overrides
    source = str(read) if read else "<defaults>"  # the file actually read, however it was found
    if args.check_config:
        if problems:
            print(f"config INVALID: {source}", file=sys.stderr)
            for p in problems:
                print(f"  error: {p}", file=sys.stderr)
            _print_env_overrides(env_overrides, sys.stderr)
            sys.exit(1)
        print(f"config OK: {source}")
        _print_env_overrides(env_overrides, sys.stdout)
        sys.exit(0)
    if problems:
        print(f"error: invalid configuration: {'; '.join(str(p) for p in problems)}", file=sys.stderr)
        sys.exit(1)
    assert loaded is not None
    sys.exit(_serve(args, loaded, settings))


def _print_env_overrides(overrides: tuple[EnvOverride, ...], stream: TextIO) -> None:
    for override in overrides:
        print(f"  note: {override}", file=stream)


def _serve(args: argparse.Namespace, loaded: LoadedConfig, settings: Settings) -> int:
    from lapce_ai.config import warn_env_overrides
    from lapce_ai.observability.logging import configure_logging
    from lapce_ai.service.netbind import StartupError, bind_socket

    configure_logging(settings.service.log_level)
    warn_env_overrides(loaded.env_overrides)
    host, port = settings.service.host, settings.service.port
    try:
        sock = bind_socket(host, port)  # first: a busy port fails fast, before anything heavy loads
    except StartupError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    from lapce_ai.service.server import serve  # the heavy imports, once the port is ours
    from lapce_ai.service.state import ServiceState

    state = ServiceState(
        settings,
        config_path=args.config,
        config_source=str(loaded.source) if loaded.source else None,
        overrides=overrides_from(args),
    )
    return serve(state, sock, host, port)


if __name__ == "__main__":
    main()
