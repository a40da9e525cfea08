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
release: models
	scripts/build_release.sh --out dist/lapce-ai --python $(BIN)/python

clean:
	rm -rf $(VENV) $(MODELS) dist .pytest_cache .mypy_cache .ruff_cache
