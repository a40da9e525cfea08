#!/usr/bin/env bash
# Build a release: the folder that goes into /opt/lapce-ai (`make release` runs this).
#
# Usage: build_release.sh [--out DIR] [--python PYTHON] [--source DIR] [--no-deps]
#   --out DIR        where the release goes (default: dist/lapce-ai in this checkout); replaced
#   --python PYTHON  the Python whose installed packages are bundled (default: this checkout's .venv)
#   --source DIR     the package to build: pyproject.toml, README.md, lapce_ai/ (default: this checkout)
#   --no-deps        bundle the package alone, run by PYTHON with its own packages (for tests)
# Writes lapce-ai-service, one executable file with the code and every dependency at the
# versions PYTHON has (a shiv zipapp, run by the same Python version); lapce-index and
# lapce-ai-indexer as links to it; models/, scripts/, deploy/, docs/, README.md, bench/load.py.
source "$(dirname "$0")/_common.sh"
handle_help "$@"

out="$REPO_DIR/dist/lapce-ai" python="$REPO_DIR/.venv/bin/python" source_dir="$REPO_DIR" deps=1
while [[ $# -gt 0 ]]; do
    case "$1" in
        --out) out="$2"; shift 2 ;;
        --python) python="$2"; shift 2 ;;
        --source) source_dir="$2"; shift 2 ;;
        --no-deps) deps=0; shift ;;
        *) die "unknown argument $1 (see --help)" ;;
    esac
done
[[ -x "$python" ]] || die "no Python at $python (run: make install)"
shiv="$(dirname "$python")/shiv"
[[ -x "$shiv" ]] || die "shiv is not installed next to $python (run: make install)"
for part in pyproject.toml README.md lapce_ai; do
    [[ -e "$source_dir/$part" ]] || die "$source_dir has no $part"
done

build="$(mktemp -d)"
trap 'rm -rf "$build"' EXIT
# Built from a copy, so that no build/ folder of the checkout's past builds slips in.
mkdir "$build/src"
cp -r "$source_dir/pyproject.toml" "$source_dir/README.md" "$source_dir/lapce_ai" "$build/src/"
if [[ "$deps" == 1 ]]; then
    version="$("$python" -c 'import sys; print("%d.%d" % sys.version_info[:2])')"
    shebang="/usr/bin/env python$version"  # the bundled native wheels are built for this version
    "$python" -m pip freeze --exclude-editable > "$build/constraints.txt"
    pip_args=(--constraint "$build/constraints.txt")
else
    shebang="$python"
    pip_args=(--no-deps --no-build-isolation)
fi

rm -rf "$out"
mkdir -p "$out/bench"
"$shiv" --quiet --compressed --python "$shebang" \
    --entry-point lapce_ai.cli.multicall:main --preamble "$SCRIPTS_DIR/release_preamble.py" \
    --output-file "$out/lapce-ai-service" "$build/src" "${pip_args[@]}"
ln -s lapce-ai-service "$out/lapce-index"
ln -s lapce-ai-service "$out/lapce-ai-indexer"
cp -r "$REPO_DIR/scripts" "$REPO_DIR/deploy" "$REPO_DIR/docs" "$REPO_DIR/README.md" "$out/"
cp "$REPO_DIR/bench/load.py" "$out/bench/"
if [[ -d "$REPO_DIR/models" ]]; then
    cp -r "$REPO_DIR/models" "$out/models"
else
    warn "no models in $REPO_DIR/models (run: make models); the release has none"
fi
log "release: $out ($(du -sh "$out" | cut -f1)); install: docs/operations.md, Releases"
