# Two commands do all set-up on a fresh machine:
#   make run    install into .venv, build the local models, index a code base (this repository,
#               or `make run PATH=/some/code`), then serve it on 127.0.0.1:8080 (refining it
#               in the background)
#   make test   install, build the models, lint, type-check and run the whole test suite
# and, for a server:
#   make release  dist/lapce-ai/: what goes into /opt/lapce-ai (docs/operations.md, "Releases")

# `make run PATH=...` names the workspace; keep the shell's own PATH for the recipes.
ifeq ($(origin PATH),command line)
WORKSPACE := $(PATH)
override PATH := $(shell printenv PATH)
export PATH
else
WORKSPACE ?= .
endif

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
MODELS := models
STAMP := $(VENV)/.installed-stamp

.PHONY: install models run test lint typecheck unit bench release clean

install: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	# torch comes from the CPU wheel on this machine; it is only used at set-up to build models.
	$(BIN)/python -m pip install --quiet -e ".[build,dev]"
	touch $(STAMP)

models: install
	HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 $(BIN)/python scripts/build_models.py --out $(MODELS)

# The index is searchable once `index` returns; with the two-stage default embedder, `refine`
# then gives it the transformer's vectors in the background while the service answers
# (Ctrl-C stops both; refine commits what it has and resumes next time).
run: models
	$(BIN)/lapce-index index "$(WORKSPACE)" --no-refine
	$(BIN)/lapce-index refine --no-progress & $(BIN)/lapce-ai-service

lint: install
	$(BIN)/ruff check lapce_ai tests bench scripts
	$(BIN)/ruff format --check lapce_ai tests

typecheck: install
	$(BIN)/mypy

unit: models
	$(BIN)/python -m pytest -q

test: lint typecheck unit

bench: models
	$(BIN)/python bench/index.py

# One file, dist/lapce-ai/lapce-ai-service, holds the code and every dependency at the versions
# installed in .venv (a shiv zipapp for this Python); lapce-index and lapce-ai-indexer are links
# to it, so deploying or rolling back that one file changes all three programs.
RELEASE := dist/lapce-ai
PYVER = $(shell $(BIN)/python -c 'import sys; print("%d.%d" % sys.version_info[:2])')

release: models
	rm -rf $(RELEASE) dist/build && mkdir -p $(RELEASE)/bench dist/build/src
	# built from a copy, so that no build/ folder of the checkout's past builds slips in
	cp -r pyproject.toml README.md lapce_ai dist/build/src/
	$(BIN)/python -m pip freeze --exclude-editable > dist/build/constraints.txt
	$(BIN)/shiv --quiet --compressed --python "/usr/bin/env python$(PYVER)" \
		--entry-point lapce_ai.cli.multicall:main --preamble scripts/release_preamble.py \
		--output-file $(RELEASE)/lapce-ai-service dist/build/src --constraint dist/build/constraints.txt
	ln -s lapce-ai-service $(RELEASE)/lapce-index
	ln -s lapce-ai-service $(RELEASE)/lapce-ai-indexer
	cp -r scripts deploy docs README.md $(RELEASE)/
	cp bench/load.py $(RELEASE)/bench/
	cp -r $(MODELS) $(RELEASE)/models
	rm -rf dist/build
	@echo "release: $(RELEASE) ($$(du -sh $(RELEASE) | cut -f1)); install: docs/operations.md, Releases"

clean:
	rm -rf $(VENV) $(MODELS) dist .pytest_cache .mypy_cache .ruff_cache
