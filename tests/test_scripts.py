"""The runbook's operator scripts, run as an operator runs them, against a real service.

Every script answers ``--help``; the ones that only read run for real; the ones that change things
run against temporary paths (index, backups, config, env file, /opt stand-in) or with --dry-run.
No network beyond 127.0.0.1.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import tarfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from test_service_support import (
    REPO,
    Service,
    base_env,
    built_index,  # noqa: F401  (session fixture)
    free_port,
    make_workspace,
    wait_for,
    write_config,
)

SCRIPTS = REPO / "scripts"
ALL_SCRIPTS = sorted(p.name for p in SCRIPTS.glob("*.sh") if not p.name.startswith("_"))
RUNBOOK_SCRIPTS = {
    "backup_index.sh", "restore_index.sh", "rebuild_index.sh", "smoke_test.sh", "check_memory_leak.sh",
    "capture_heap_dump.sh", "rollback_cst.sh", "backup_state.sh", "restore_from_backup.sh",
    "daily_health_check.sh", "weekly_report.sh", "monthly_maintenance.sh", "diagnose.sh", "system_check.sh",
    "perf_profile.sh", "analyze_cache.sh", "memory_profile.sh", "check_connectivity.sh",
    "rotate_aws_credentials.sh", "emergency_help.sh",
}  # fmt: skip


@pytest.fixture(scope="module")
def ops(tmp_path_factory: pytest.TempPathFactory, built_index: dict[str, Path]) -> Iterator[dict[str, Any]]:  # noqa: F811
    """A running service on a private index, and the environment the scripts read."""
    tmp = tmp_path_factory.mktemp("ops")
    data = tmp / "var-lib-lapce-ai"
    index, cache = data / "indices", data / "cache"
    data.mkdir()
    shutil.copytree(built_index["index"], index)
    workspace = tmp / "ws"
    shutil.copytree(built_index["workspace"], workspace)
    port = free_port()
    (tmp / "etc" / "lapce-ai").mkdir(parents=True)
    config = write_config(tmp / "etc" / "lapce-ai" / "config.toml", port=port, index=index, roots=[workspace])
    env_file = tmp / "etc" / "default-lapce-ai"
    env_file.write_text(
        "AWS_REGION=us-east-1\nLOG_LEVEL=info\nAWS_ACCESS_KEY_ID=AKIAABCDEFGHIJKLMNOP\n"
        "AWS_SECRET_ACCESS_KEY=verySecretValue1234567890abcdefghijklmnop\n"
    )
    env_file.chmod(0o640)
    fake_systemctl = tmp / "systemctl"
    fake_systemctl.write_text('#!/bin/sh\necho "systemctl $*" >> "$(dirname "$0")/systemctl.log"\nexit 1\n')
    fake_systemctl.chmod(0o755)
    env = base_env(tmp)
    svc = Service(config, port, env, tmp)
    svc.wait_ready()
    env.update(
        LAPCE_AI_URL=svc.url,
        LAPCE_AI_DATA=str(data),
        LAPCE_AI_INDEX=str(index),
        LAPCE_AI_CACHE=str(cache),
        LAPCE_AI_CONFIG=str(config),
        LAPCE_AI_ENV_FILE=str(env_file),
        LAPCE_AI_BACKUP_DIR=str(tmp / "backups"),
        LAPCE_AI_BIN_DIR=str(tmp / "opt"),
        LAPCE_AI_REPORT_DIR=str(tmp / "reports"),
        LAPCE_AI_PID=str(svc.pid),
        LAPCE_AI_SYSTEMCTL=str(fake_systemctl),
        PROMETHEUS_URL=f"http://127.0.0.1:{free_port()}",  # nothing listens there
    )
    try:
        yield {
            "svc": svc,
            "env": env,
            "tmp": tmp,
            "index": index,
            "config": config,
            "workspace": workspace,
            "env_file": env_file,
        }
    finally:
        svc.stop()


def sh(ops: dict[str, Any], script: str, *args: str, ok: bool = True, **env: str) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(
        [str(SCRIPTS / script), *args],
        capture_output=True,
        text=True,
        env={**ops["env"], **env},
        timeout=300,
        cwd=ops["tmp"],  # nothing a script writes lands in the checkout
    )
    if ok and proc.returncode != 0:
        raise AssertionError(f"{script} {' '.join(args)} -> {proc.returncode}\n{proc.stdout}\n{proc.stderr}")
    return proc


def test_every_runbook_script_exists_and_has_help(ops: dict[str, Any]) -> None:
    assert set(ALL_SCRIPTS) >= RUNBOOK_SCRIPTS
    for name in ALL_SCRIPTS:
        assert os.access(SCRIPTS / name, os.X_OK), name
        res = sh(ops, name, "--help")
        assert "Usage:" in res.stdout, name
        assert res.stdout.splitlines()[0].strip(), name


def test_root_wrappers() -> None:
    for name in ("lapce-index", "lapce-ai-service", "lapce-ai-indexer"):
        res = subprocess.run([str(REPO / name), "--help"], capture_output=True, text=True, timeout=60)
        assert res.returncode == 0 and f"usage: {name}" in res.stdout


def test_backup_rebuild_restore_round_trip(ops: dict[str, Any]) -> None:
    svc: Service = ops["svc"]
    assert _symbols(svc, "Tokenize") >= {"Tokenize"}
    archive = Path(sh(ops, "backup_index.sh", str(ops["index"])).stdout.strip().splitlines()[-1])
    assert archive.is_file() and Path(f"{archive}.sha256").is_file()
    assert archive.name.startswith("indices-") and archive.name.endswith(".tar.gz")

    other = make_workspace(ops["tmp"] / "other", extra_modules=0)
    (other / "web" / "billing.py").write_text("def compute_invoice_total(lines):\n    return sum(lines)\n")
    sh(ops, "rebuild_index.sh", "--from-source", str(other))
    # the running service follows the swapped-in index by itself
    assert wait_for(lambda: "compute_invoice_total" in _symbols(svc, "compute_invoice_total"), timeout=15)

    sh(ops, "restore_index.sh", "--backup", str(archive))
    assert wait_for(lambda: "compute_invoice_total" not in _symbols(svc, "compute_invoice_total"), timeout=15)
    assert "Tokenize" in _symbols(svc, "Tokenize")

    bad = archive.with_name("indices-19990101.tar.gz")
    shutil.copy(archive, bad)
    Path(f"{bad}.sha256").write_text(f"{'0' * 64}  {bad.name}\n")
    res = sh(ops, "restore_index.sh", "--backup", str(bad), ok=False)
    assert res.returncode != 0 and "checksum" in res.stderr


def test_backup_state_and_restore_from_backup(ops: dict[str, Any]) -> None:
    opt = Path(ops["env"]["LAPCE_AI_BIN_DIR"])
    opt.mkdir(exist_ok=True)
    (opt / "lapce-ai-service").write_text("#!/bin/sh\necho v2\n")
    done = sh(ops, "backup_state.sh")
    out = done.stdout
    assert "no release binary" in done.stderr  # saved, with a warning that it holds no code
    backups = Path(ops["env"]["LAPCE_AI_BACKUP_DIR"])
    today = time.strftime("%Y%m%d")
    config_archive = backups / f"config-backup-{today}.tar.gz"
    assert config_archive.is_file() and (config_archive.stat().st_mode & 0o077) == 0, out
    with tarfile.open(config_archive) as tar:
        names = tar.getnames()
    assert any(n.endswith("lapce-ai/config.toml") for n in names) and any(n.endswith("default-lapce-ai") for n in names)
    assert (opt / "backups" / "lapce-ai-service.previous").read_text() == "#!/bin/sh\necho v2\n"
    assert list(backups.glob("state-*.sha256"))

    res = sh(ops, "restore_from_backup.sh", "--date", today)
    assert "restored" in res.stdout
    res = sh(ops, "restore_from_backup.sh", "--date", "19700101", ok=False)
    assert res.returncode != 0 and "no index backup" in res.stderr


def test_read_only_checks(ops: dict[str, Any]) -> None:
    assert "smoke test passed" in sh(ops, "smoke_test.sh", "--query", "router").stdout
    bad = sh(ops, "smoke_test.sh", ok=False, LAPCE_AI_URL=f"http://127.0.0.1:{free_port()}", LAPCE_AI_TIMEOUT="2")
    assert bad.returncode == 1 and "FAIL" in bad.stdout

    daily = sh(ops, "daily_health_check.sh", ok=False)
    assert daily.returncode in (0, 1) and "summary:" in daily.stdout and "PASS  health" in daily.stdout

    assert "health" in sh(ops, "diagnose.sh").stdout
    system = sh(ops, "system_check.sh", "--verbose")
    assert "PASS  index" in system.stdout and "summary: 0 failed" in system.stdout

    cache = sh(ops, "analyze_cache.sh", "--detailed").stdout
    assert "hit rate" in cache and "cst_cache_" in cache

    conn = sh(ops, "check_connectivity.sh")
    assert "PASS  service" in conn.stdout
    prom = sh(ops, "check_connectivity.sh", "--prometheus", ok=False)
    assert prom.returncode == 1 and "FAIL  prometheus" in prom.stdout
    svc: Service = ops["svc"]
    aws = sh(ops, "check_connectivity.sh", "--aws", AWS_ENDPOINT_URL_BEDROCK_RUNTIME=svc.url)  # loopback stand-in
    assert "PASS  aws-tcp" in aws.stdout and "PASS  aws-https" in aws.stdout


def test_reports(ops: dict[str, Any]) -> None:
    out = ops["tmp"] / "weekly.txt"
    res = sh(ops, "weekly_report.sh", "--email", "ops@example.com", "--out", str(out))
    assert out.is_file() and "search requests:" in out.read_text()
    assert "emailed to" in res.stdout or "no mail transport" in res.stdout

    monthly = sh(ops, "monthly_maintenance.sh", "--dry-run")
    assert "monthly maintenance done: 0 failed" in monthly.stdout

    emergency = sh(ops, "emergency_help.sh").stdout
    assert "#oncall-platform" in emergency and "diagnostics bundle:" in emergency


def test_perf_and_memory(ops: dict[str, Any]) -> None:
    perf = sh(ops, "perf_profile.sh", "--duration", "2s", "--concurrency", "2").stdout
    assert "qps" in perf.lower() and "server side:" in perf

    leak = sh(ops, "check_memory_leak.sh", "--samples", "3", "--interval", "0.2", "--load", "5").stdout
    assert "no leak detected" in leak

    bundle = Path(sh(ops, "capture_heap_dump.sh").stdout.strip().splitlines()[-1])
    with tarfile.open(bundle) as tar:
        names = tar.getnames()
        report = next(n for n in names if n.endswith("heap-report.json"))
        heap = json.load(tar.extractfile(report))  # type: ignore[arg-type]
    assert heap["pid"] == ops["svc"].pid and heap["objects_by_type"]
    assert any(n.endswith("metrics.txt") for n in names)

    mem = sh(ops, "memory_profile.sh", "--samples", "2", "--interval", "0.1").stdout
    assert "VmRSS" in mem


def test_rollback_flag_then_binary_dry_run(ops: dict[str, Any]) -> None:
    svc: Service = ops["svc"]
    config: Path = ops["config"]
    original = config.read_text()
    try:
        res = sh(ops, "rollback_cst.sh", "--type", "flag")
        assert "cst_enabled=false" in res.stdout
        assert svc.get("/health").json()["cst_enabled"] is False
        assert "cst_pipeline_enabled = false" in config.read_text()
        assert list(config.parent.glob("config.toml.bak-*"))
    finally:
        config.write_text(original)
        svc.signal(signal.SIGHUP)
        assert wait_for(lambda: svc.get("/health").json()["cst_enabled"] is True)

    opt = Path(ops["env"]["LAPCE_AI_BIN_DIR"])
    (opt / "backups").mkdir(parents=True, exist_ok=True)
    (opt / "backups" / "lapce-ai-service.previous").write_text("#!/bin/sh\n")
    current = opt / "lapce-ai-service"
    current.write_text("#!/bin/sh\necho current\n")
    previous = opt / "backups" / "lapce-ai-service.previous"
    plan = sh(ops, "rollback_cst.sh", "--type", "binary", "--version", "previous", "--dry-run").stdout
    assert "stop lapce-ai-service" in plan and "lapce-ai-service.previous" in plan
    assert "rolled back" not in plan  # nothing was done: it says what it would do
    last = plan.strip().splitlines()[-1]
    assert last.endswith(f"dry run: would roll back {current} to {previous} (nothing was changed)")
    assert current.read_text() == "#!/bin/sh\necho current\n" and not list((opt / "backups").glob("*.rollback-*"))
    # the saved file is a script (as a checkout's wrapper is), not a release binary: the dry run
    # warns, the rollback itself refuses and changes nothing (tests/test_release.py rolls back real ones)
    assert "no release binaries" in sh(ops, "rollback_cst.sh", "--type", "binary", "--dry-run").stderr
    res = sh(ops, "rollback_cst.sh", "--type", "binary", "--version", "previous", ok=False)
    assert res.returncode != 0 and "roll back no code" in res.stderr and "git" in res.stderr
    assert current.read_text() == "#!/bin/sh\necho current\n" and not list((opt / "backups").glob("*.rollback-*"))
    res = sh(ops, "rollback_cst.sh", "--type", "nonsense", ok=False)
    assert res.returncode != 0


def test_rotate_credentials_dry_run_never_prints_secrets(ops: dict[str, Any]) -> None:
    res = sh(ops, "rotate_aws_credentials.sh", "--dry-run", "--user", "lapce-ai-svc")
    text = res.stdout + res.stderr
    assert "AKIA…MNOP" in text and "create-access-key" in text
    assert "AKIAABCDEFGHIJKLMNOP" not in text and "verySecretValue" not in text


def _symbols(svc: Service, query: str) -> set[str]:
    r = svc.get("/search", params={"q": query, "k": 10})
    return {x["symbol"] for x in r.json()["results"]} if r.status_code == 200 else set()
