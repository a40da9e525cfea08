"""The release binary (``make release``): one file that is all three commands, deployed and rolled
back as the runbook does it.

The binaries here are real shiv zipapps of this checkout's code, built as ``make release`` builds
them but without the dependencies (``--no-deps``, with this venv's Python as interpreter), which
would take a minute and 240 MB per build: what is tested is the binary's own code, its
links, its unpacking and pruning, and the deploy and rollback of the file. A stand-in for
systemd runs the unit's program (``/opt/lapce-ai/<unit>``) for real.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from test_service_support import (
    REPO,
    base_env,
    built_index,  # noqa: F401  (session fixture)
    free_port,
    wait_for,
    write_config,
)

import lapce_ai
from lapce_ai.cli import multicall
from lapce_ai.observability import metrics
from lapce_ai.observability.build import build_of, commit_of, running_build

SHIV = Path(sys.executable).parent / "shiv"
PREAMBLE = REPO / "scripts" / "release_preamble.py"
COMMANDS = ("lapce-ai-service", "lapce-index", "lapce-ai-indexer")

SYSTEMCTL = """#!/usr/bin/env bash
# A stand-in for systemd: `start UNIT` runs $OPT/UNIT in the background, `stop UNIT` SIGTERMs it.
unit="$2" pidfile="$STATE/$2.pid"
echo "systemctl $*" >> "$STATE/systemctl.log"
case "$1" in
    cat) [[ "$unit" == lapce-ai-service ]] ;;
    start) setsid "$OPT/$unit" >> "$STATE/$unit.log" 2>&1 < /dev/null & echo $! > "$pidfile" ;;
    stop)
        [[ -f "$pidfile" ]] || exit 0
        pid="$(cat "$pidfile")"; kill -TERM -- "-$pid" 2>/dev/null
        for _ in $(seq 300); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        rm -f "$pidfile" ;;
    *) exit 1 ;;
esac
"""


def build_release(tmp: Path, version: str) -> Path:
    """A release folder (``scripts/build_release.sh``, as ``make release`` runs it, but
    ``--no-deps``) of this checkout's code with ``__version__`` set to ``version``."""
    src = tmp / f"src-{version}"
    src.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(REPO / name, src / name)
    shutil.copytree(REPO / "lapce_ai", src / "lapce_ai", ignore=shutil.ignore_patterns("__pycache__"))
    init = src / "lapce_ai" / "__init__.py"
    stock = f'__version__ = "{lapce_ai.__version__}"'
    assert stock in init.read_text()
    init.write_text(init.read_text().replace(stock, f'__version__ = "{version}"'))
    out = tmp / f"release-{version}"
    built = subprocess.run(
        [str(REPO / "scripts" / "build_release.sh"), "--out", str(out), "--python", sys.executable,
         "--source", str(src), "--no-deps"],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert built.returncode == 0, built.stderr
    assert f"release: {out}" in built.stdout
    return out


@pytest.fixture(scope="module")
def release(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    tmp = tmp_path_factory.mktemp("release")
    env = base_env(tmp)
    env.update(SHIV_ROOT=str(tmp / "shiv"), LAPCE_AI_MODELS_DIR=str(REPO / "models"))
    return {"tmp": tmp, "env": env, "old": build_release(tmp, "9.9.1"), "new": build_release(tmp, "9.9.2")}


def run(binary: Path, *args: str, env: dict[str, str], ok: bool = True) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run([str(binary), *args], capture_output=True, text=True, env=env, timeout=120)
    if ok and proc.returncode != 0:
        raise AssertionError(f"{binary} {' '.join(args)} -> {proc.returncode}\n{proc.stdout}\n{proc.stderr}")
    return proc


def test_multicall_resolves_the_name_called_by() -> None:
    service, index, indexer = (multicall.COMMANDS[name] for name in COMMANDS)
    assert multicall.resolve(["/opt/lapce-ai/lapce-index", "stats"]) == (index, ["stats"])
    assert multicall.resolve(["lapce-ai-indexer"]) == (indexer, [])
    assert multicall.resolve(["/x/lapce-ai-service", "--check-config"]) == (service, ["--check-config"])
    # a first argument naming a command wins (a checkout's wrappers call a release binary so)
    assert multicall.resolve(["/x/lapce-ai-service", "lapce-ai-indexer", "--once"]) == (indexer, ["--once"])
    # by another name, the first argument names the command
    assert multicall.resolve(["lapce-ai.pyz", "lapce-index", "--help"]) == (index, ["--help"])
    assert multicall.resolve(["lapce-ai.pyz", "serve"]) is None
    assert multicall.resolve([]) is None
    with pytest.raises(SystemExit) as exit_:
        multicall.main(["lapce-ai.pyz"])
    assert exit_.value.code == 2


def test_the_release_holds_the_binary_its_links_and_what_operators_run(release: dict[str, Any]) -> None:
    folder: Path = release["old"]
    assert os.access(folder / "lapce-ai-service", os.X_OK)
    assert [os.readlink(folder / name) for name in COMMANDS[1:]] == ["lapce-ai-service", "lapce-ai-service"]
    for part in ("scripts/rollback_cst.sh", "scripts/_common.sh", "deploy/systemd/lapce-ai-service.service",
                 "docs/operations.md", "README.md", "bench/load.py", "models/static"):  # fmt: skip
        assert (folder / part).exists(), part


def test_each_link_runs_its_command_from_the_binary(release: dict[str, Any]) -> None:
    binary, env = release["old"] / "lapce-ai-service", release["env"]
    unpacked = []
    for name in COMMANDS:
        version = run(binary.parent / name, "--version", env=env).stdout.strip()
        assert re.fullmatch(rf"{name} 9\.9\.1 \(build [0-9a-f]{{12}}\)", version), version
        unpacked.append(version.rsplit(" ", 1)[1].rstrip(")"))
        assert f"usage: {name}" in run(binary.parent / name, "--help", env=env).stdout
    # one build, unpacked once, and named by its build id
    assert len(set(unpacked)) == 1
    assert [p.name[-64:][:12] for p in Path(env["SHIV_ROOT"]).glob("lapce-ai-service_*") if p.is_dir()] == unpacked[:1]
    other = binary.parent / "lapce-ai.pyz"
    other.symlink_to("lapce-ai-service")
    assert run(other, "lapce-index", "--version", env=env).stdout.startswith("lapce-index 9.9.1 (build ")
    res = run(other, env=env, ok=False)
    assert res.returncode == 2 and "lapce-ai-service,lapce-index,lapce-ai-indexer" in res.stderr
    # the code that ran is the binary's own, unpacked under SHIV_ROOT, not this checkout's
    code = "import lapce_ai; print(lapce_ai.__file__)"
    where = subprocess.run(
        [sys.executable, str(binary), "-c", code], capture_output=True, text=True, env={**env, "SHIV_INTERPRETER": "1"}
    ).stdout.strip()
    assert where.startswith(env["SHIV_ROOT"]), where


def test_prune_keeps_the_running_build_and_the_two_used_last(tmp_path: Path) -> None:
    sys.path.insert(0, str(PREAMBLE.parent))
    try:
        import release_preamble
    finally:
        sys.path.remove(str(PREAMBLE.parent))
    builds = []
    for age, build_id in enumerate(["a1", "b2", "c3", "d4", "e5"]):
        path = tmp_path / f"lapce-ai-service_{build_id}"
        (path / "site-packages").mkdir(parents=True)
        (tmp_path / f".{path.name}_lock").touch()
        os.utime(path, (1_000_000 - age * 100, 1_000_000 - age * 100))  # a1 used last, e5 first
        builds.append(path)
    unpacking = tmp_path / "lapce-ai-service_f6.tmp"
    unpacking.mkdir()
    stranger = tmp_path / "other-tool_z9"
    stranger.mkdir()
    os.utime(stranger, (0, 0))
    removed = release_preamble.prune(builds[4])  # the oldest build starts again (a rollback)
    assert sorted(p.name for p in removed) == ["lapce-ai-service_c3", "lapce-ai-service_d4"]
    left = sorted(p.name for p in tmp_path.iterdir())
    assert left == [
        ".lapce-ai-service_a1_lock", ".lapce-ai-service_b2_lock", ".lapce-ai-service_e5_lock",
        "lapce-ai-service_a1", "lapce-ai-service_b2", "lapce-ai-service_e5", "lapce-ai-service_f6.tmp",
        "other-tool_z9",
    ]  # fmt: skip
    assert builds[4].stat().st_mtime > builds[0].stat().st_mtime  # marked as the one used last
    assert release_preamble.prune(builds[4]) == []


@pytest.fixture
def opt(release: dict[str, Any], built_index: dict[str, Path]) -> Iterator[dict[str, Any]]:  # noqa: F811
    """/opt/lapce-ai with the old release installed, its service started by the systemd stand-in."""
    tmp: Path = release["tmp"] / "deploy"
    tmp.mkdir()
    opt_dir, state = tmp / "opt", tmp / "state"
    shutil.copytree(release["old"], opt_dir, symlinks=True)  # the first install: rsync -a dist/lapce-ai/ /opt/lapce-ai/
    state.mkdir()
    index = tmp / "var-lib" / "indices"
    shutil.copytree(built_index["index"], index)
    port = free_port()
    (tmp / "etc").mkdir()
    no_workers = "[performance]\nsearch_workers = 0\n"  # one process to start and stop
    config = write_config(tmp / "etc" / "config.toml", port=port, index=index, extra=no_workers)
    systemctl = tmp / "systemctl"
    systemctl.write_text(SYSTEMCTL)
    systemctl.chmod(0o755)
    env = {
        **release["env"],
        "LAPCE_AI_MODELS_DIR": str(opt_dir / "models"),
        "OPT": str(opt_dir),
        "STATE": str(state),
        "LAPCE_AI_CONFIG": str(config),
        "LAPCE_AI_URL": f"http://127.0.0.1:{port}",
        "LAPCE_AI_DATA": str(index.parent),
        "LAPCE_AI_INDEX": str(index),
        "LAPCE_AI_ENV_FILE": str(tmp / "etc" / "default-lapce-ai"),
        "LAPCE_AI_BACKUP_DIR": str(tmp / "backups"),
        "LAPCE_AI_BIN_DIR": str(opt_dir),
        "LAPCE_AI_SYSTEMCTL": str(systemctl),
    }
    ctx = {"opt": opt_dir, "env": env, "url": env["LAPCE_AI_URL"], "state": state}
    systemctl_(ctx, "start")
    try:
        yield ctx
    finally:
        systemctl_(ctx, "stop")


def systemctl_(ctx: dict[str, Any], action: str) -> None:
    env = ctx["env"]
    subprocess.run([env["LAPCE_AI_SYSTEMCTL"], action, "lapce-ai-service"], env=env, check=True, timeout=60)


def running_version(ctx: dict[str, Any]) -> str | None:
    """The running service's ``version (build)``, from /health, once it answers."""

    def ready() -> str | None:
        try:
            health = httpx.get(f"{ctx['url']}/health", timeout=2)
        except httpx.HTTPError:
            return None
        body = health.json()
        return f"{body['version']} ({body['build']})" if health.status_code == 200 else None

    version = wait_for(ready, timeout=90, interval=0.3)
    return version if isinstance(version, str) else None


def build_line(binary: Path, name: str, env: dict[str, str]) -> str:
    """``version (build)`` as ``NAME --version`` prints it."""
    out = run(binary.parent / name, "--version", env=env).stdout.strip()
    return out.removeprefix(f"{name} ").replace("(build ", "(")


def script(ctx: dict[str, Any], name: str, *args: str) -> str:
    """An operator script of the installed release (``/opt/lapce-ai/scripts``), as the runbook runs it."""
    proc = subprocess.run(
        [str(ctx["opt"] / "scripts" / name), *args], capture_output=True, text=True, env=ctx["env"], timeout=300
    )
    assert proc.returncode == 0, f"{name} {args} -> {proc.returncode}\n{proc.stdout}\n{proc.stderr}"
    return proc.stdout


def test_deploy_then_rollback_replaces_the_code_of_all_three_commands(
    release: dict[str, Any], opt: dict[str, Any]
) -> None:
    binary, env = opt["opt"] / "lapce-ai-service", opt["env"]
    old = running_version(opt)
    assert old is not None and old.startswith("9.9.1 (") and old == build_line(binary, "lapce-ai-service", env)
    script(opt, "backup_state.sh")
    old_binary, new_binary = release["old"] / "lapce-ai-service", release["new"] / "lapce-ai-service"
    assert (opt["opt"] / "backups" / "lapce-ai-service.previous").read_bytes() == old_binary.read_bytes()

    # the runbook's "Deploy New Version": stop, cp the new binary over the old one, start
    systemctl_(opt, "stop")
    shutil.copy(new_binary, binary)
    systemctl_(opt, "start")
    new = running_version(opt)
    assert new is not None and new.startswith("9.9.2 (") and new[7:] != old[7:]  # another build id
    assert build_line(binary, "lapce-index", env) == new
    stats = run(opt["opt"] / "lapce-index", "stats", "--index", env["LAPCE_AI_INDEX"], "--json", env=env)
    assert json.loads(stats.stdout)["chunks"] > 0

    # the runbook's "Quick rollback": the previous binary, and with it the previous code, runs again
    out = script(opt, "rollback_cst.sh", "--type", "binary", "--version", "previous")
    assert "smoke test passed" in out and f"rolled back {binary}" in out
    assert f"version=9.9.1 build={old[7:-1]}" in out  # the smoke test shows the build running
    assert running_version(opt) == old
    for name in COMMANDS[1:]:
        assert build_line(binary, name, env) == old
    saved = list((opt["opt"] / "backups").glob("*.rollback-*"))
    assert [p.read_bytes() == new_binary.read_bytes() for p in saved] == [True]
    metrics = httpx.get(f"{opt['url']}/metrics", timeout=5).text
    assert f'lapce_ai_build_info{{build="{old[7:-1]}",version="9.9.1"}} 1.0' in metrics
    # each build unpacked once, side by side
    assert len(list(Path(env["SHIV_ROOT"]).glob("lapce-ai-service_*/site-packages"))) == 2


def test_the_units_run_programs_that_a_checkout_and_a_release_both_have() -> None:
    programs = set()
    for unit in (REPO / "deploy" / "systemd").glob("*.service"):
        for line in unit.read_text().splitlines():
            if line.startswith(("ExecStart=", "ExecStartPre=")):
                programs.add(line.split("=", 1)[1].split()[0])
    assert programs == {"/opt/lapce-ai/lapce-ai-service", "/opt/lapce-ai/lapce-ai-indexer"}
    for program in programs:
        name = Path(program).name
        assert os.access(REPO / name, os.X_OK)  # a checkout's wrapper of its .venv
        assert name in COMMANDS  # the release binary, or a link to it


def test_a_build_is_named_by_its_unpacked_folder_and_a_checkout_by_its_commit(tmp_path: Path) -> None:
    build_id = "0123456789abcdef" * 4
    unpacked = tmp_path / f"lapce-ai-service_{build_id}" / "site-packages" / "lapce_ai"
    assert build_of(unpacked) == "0123456789ab"
    assert build_of(tmp_path / "lapce-ai-service_1234" / "site-packages" / "lapce_ai") is None  # no build id
    assert build_of(tmp_path / f"x_{build_id}" / "lib" / "lapce_ai") is None  # not unpacked by shiv
    assert build_of(REPO / "lapce_ai") is None
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=REPO, capture_output=True, text=True, check=True)
    assert commit_of(REPO) == head.stdout.strip()
    assert running_build() == f"git:{head.stdout.strip()[:12]}"  # this checkout
    exposition = metrics.render().decode()
    assert f'lapce_ai_build_info{{build="{running_build()}",version="{lapce_ai.__version__}"}} 1.0' in exposition


def test_a_commit_is_read_through_branches_packed_refs_worktrees_and_a_detached_head(tmp_path: Path) -> None:
    def git(*args: str, cwd: Path) -> str:
        done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=True)
        return done.stdout.strip()

    repo = tmp_path / "repo"
    repo.mkdir()
    git("init", "-q", "-b", "main", cwd=repo)
    (repo / "a.txt").write_text("a\n")
    git("add", "a.txt", cwd=repo)
    git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "-m", "one", cwd=repo)
    first = git("rev-parse", "HEAD", cwd=repo)
    assert commit_of(repo) == first  # a loose branch ref
    git("pack-refs", "--all", cwd=repo)
    assert commit_of(repo) == first  # packed
    git("worktree", "add", "-q", "-b", "side", str(tmp_path / "wt"), cwd=repo)
    assert commit_of(tmp_path / "wt") == first  # .git is a file; the branch lives in the shared dir
    git("checkout", "-q", "--detach", cwd=repo)
    assert commit_of(repo) == first  # detached
    assert commit_of(tmp_path) is None  # no checkout
    (repo / ".git" / "HEAD").write_text("ref: refs/heads/nowhere\n")
    assert commit_of(repo) is None


def test_a_release_binary_copied_into_a_checkout_runs_all_three_commands(release: dict[str, Any]) -> None:
    """The runbook's deploy in a checkout: a release binary copied over its lapce-ai-service. The
    checkout's other two wrappers then run the binary, and rolling back to the saved wrapper is
    allowed (it returns to the .venv's code); two wrappers are refused (tests/test_scripts.py)."""
    env = release["env"]
    checkout = release["tmp"] / "checkout"
    (checkout / "backups").mkdir(parents=True)
    for name in COMMANDS:
        shutil.copy(REPO / name, checkout / name)  # the checkout's wrappers (its .venv not there)
    shutil.copy(checkout / "lapce-ai-service", checkout / "backups" / "lapce-ai-service.previous")
    shutil.copy(release["old"] / "lapce-ai-service", checkout / "lapce-ai-service")
    for name in COMMANDS:
        version = run(checkout / name, "--version", env=env).stdout.strip()
        assert version.startswith(f"{name} 9.9.1 (build "), version
    plan = subprocess.run(
        [str(REPO / "scripts" / "rollback_cst.sh"), "--type", "binary", "--dry-run"],
        capture_output=True, text=True, timeout=60, env={**env, "LAPCE_AI_BIN_DIR": str(checkout)},
    )  # fmt: skip
    assert plan.returncode == 0 and "no release binar" not in plan.stderr, plan.stderr
    assert "dry run: would roll back" in plan.stdout
