from __future__ import annotations

import os
from pathlib import Path

from lapce_ai.discovery.walker import SkipReason, WorkspaceWalker


def make_tree(root: Path) -> None:
    (root / "src").mkdir(parents=True)
    (root / "src" / "app.py").write_text("def main():\n    pass\n")
    (root / "src" / "debug.log").write_text("log")
    (root / "src" / "keep.log").write_text("keep")
    (root / ".gitignore").write_text("*.log\n!keep.log\nsecret/\n")
    (root / "secret").mkdir()
    (root / "secret" / "key.py").write_text("KEY = 1\n")
    (root / "node_modules" / "pkg").mkdir(parents=True)
    (root / "node_modules" / "pkg" / "index.js").write_text("x")
    (root / "image.png").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00binary")
    (root / "big.txt").write_text("x" * 2000)
    (root / "lib.min.js").write_text("var a=1;")
    (root / "sub").mkdir()
    (root / "sub" / ".lapceignore").write_text("generated_*.py\n")
    (root / "sub" / "generated_x.py").write_text("x = 1\n")
    (root / "sub" / "real.py").write_text("y = 2\n")


def test_discovery_skips_and_counts_by_reason(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    make_tree(root)
    outside = tmp_path / "outside.py"
    outside.write_text("print('outside')\n")
    os.symlink(outside, root / "link_out.py")
    os.symlink(root / "src" / "app.py", root / "link_in.py")
    report = WorkspaceWalker(root, max_file_bytes=1000).discover()
    paths = [f.relpath for f in report.files]
    assert paths == ["link_in.py", "src/app.py", "src/keep.log", "sub/real.py"]
    assert report.skipped_paths["src/debug.log"] == SkipReason.IGNORED
    assert report.skipped_paths["secret/"] == SkipReason.IGNORED
    assert report.skipped_paths["node_modules/"] == SkipReason.VENDORED
    assert report.skipped_paths["image.png"] == SkipReason.BINARY
    assert report.skipped_paths["big.txt"] == SkipReason.TOO_LARGE
    assert report.skipped_paths["lib.min.js"] == SkipReason.GENERATED
    assert report.skipped_paths["link_out.py"] == SkipReason.SYMLINK_OUTSIDE
    assert report.skipped_paths["sub/generated_x.py"] == SkipReason.IGNORED
    assert sum(report.skipped.values()) == len(report.skipped_paths)


def test_check_file_agrees_with_walk(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    make_tree(root)
    walker = WorkspaceWalker(root, max_file_bytes=1000)
    report = walker.discover()
    for f in report.files:
        assert walker.check_file(f.relpath) == f
    for rel, reason in report.skipped_paths.items():
        if not rel.endswith("/"):
            assert walker.check_file(rel) == reason
    assert walker.check_file("secret/key.py") == SkipReason.IGNORED
    assert walker.check_file("node_modules/pkg/index.js") == SkipReason.VENDORED


def test_unreadable_file_is_reported(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    root.mkdir()
    (root / "ok.py").write_text("x = 1\n")
    locked = root / "locked.py"
    locked.write_text("y = 1\n")
    locked.chmod(0)
    try:
        report = WorkspaceWalker(root).discover()
        if os.geteuid() == 0:  # root reads anything; the walk must still list it
            assert "locked.py" in [f.relpath for f in report.files]
        else:
            assert report.skipped_paths["locked.py"] == SkipReason.UNREADABLE
    finally:
        locked.chmod(0o644)


def test_build_output_folders_are_skipped_only_where_a_build_puts_them(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    files = {
        "package.json": "{}",
        "index.js": "module.exports = 1\n",
        "dist/bundle.js": "var a = 1\n",  # beside package.json: the build's output
        "coverage/lcov.js": "var b = 2\n",
        "rust/Cargo.toml": "[package]\n",
        "rust/src/lib.rs": "pub fn f() {}\n",
        "rust/target/debug/build.rs": "fn main() {}\n",
        "cache/target/CACHEDIR.TAG": "Signature: 8a477f597d28d172789f06886806bc55\n",
        "cache/target/x.rs": "fn x() {}\n",  # tagged as a cache, manifest or not
        "src/luarocks/build/builtin.lua": "local M = {}\nreturn M\n",  # modules, not output
        "py/pyproject.toml": "[project]\n",
        "py/coverage/__init__.py": "VERSION = 1\n",  # a package named like an output folder
        "go/go.mod": "module x\n",
        "go/internal/env/env.go": "package env\n",  # `env` is a name, not a virtualenv
        "tools/myenv/pyvenv.cfg": "home = /usr/bin\n",
        "tools/myenv/lib/site.py": "x = 1\n",  # a virtualenv, whatever it is called
    }
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    walker = WorkspaceWalker(root)
    report = walker.discover()
    assert [f.relpath for f in report.files] == [
        "go/go.mod",
        "go/internal/env/env.go",
        "index.js",
        "package.json",
        "py/coverage/__init__.py",
        "py/pyproject.toml",
        "rust/Cargo.toml",
        "rust/src/lib.rs",
        "src/luarocks/build/builtin.lua",
    ]
    vendored = sorted(p for p, why in report.skipped_paths.items() if why == SkipReason.VENDORED)
    assert vendored == ["cache/target/", "coverage/", "dist/", "rust/target/", "tools/myenv/"]
    for f in report.files:  # the watcher's per-file check says the same
        assert walker.check_file(f.relpath) == f
    for rel in ("dist/bundle.js", "rust/target/debug/build.rs", "cache/target/x.rs", "tools/myenv/lib/site.py"):
        assert walker.check_file(rel) == SkipReason.VENDORED
    everything = WorkspaceWalker(root, include_vendored=True).discover()
    assert sorted(f.relpath for f in everything.files) == sorted(files)
