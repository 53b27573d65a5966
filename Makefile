# kubecodegen — every target sets itself up (venv + install) on a fresh machine.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
PKG_ARGS := --package kube_v1_35 --out generated/
# `make cluster SERVER=modern` (v1.36, CRDs only) or SERVER=both; default kube-apiserver v1.20.2.
SERVER ?= kube

.PHONY: run test unit lint typecheck verify-generated generated test-assets cluster bench clean venv

# The runtime (generator/runtime, distribution kubecodegen-runtime) and the generator,
# both editable: the generator requires the runtime, pip takes it from the local path.
$(STAMP): pyproject.toml generator/runtime/pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e generator/runtime -e '.[dev]'
	touch $@

venv: $(STAMP)

## Generate the reference package from the embedded default spec into generated/.
run: $(STAMP)
	$(BIN)/kubecodegen generate $(PKG_ARGS)

## Regenerate every committed reference package in generated/.
generated: $(STAMP)
	$(BIN)/python scripts/generated.py write

## Regenerate into a temporary folder and fail on any difference with generated/.
verify-generated: $(STAMP)
	$(BIN)/python scripts/generated.py check

lint: $(STAMP)
	$(BIN)/ruff check generator tests benchmarks scripts examples

typecheck: $(STAMP)
	$(BIN)/mypy
	$(BIN)/mypy --config-file mypy-generated.ini generated
	MYPYPATH=generated $(BIN)/mypy --config-file mypy-generated.ini examples

## Install etcd and build (or reuse the cached) kube-apiserver v1.20.2, then the modern server
## (v1.36, CRDs only). The modern build exits 3 when Debian sid no longer allows it: one line says
## why and everything else goes on (its tests are then skipped, loudly); the v1.20 build is mandatory.
test-assets:
	bash scripts/install-test-assets.sh
	bash scripts/install-modern-apiserver.sh || [ $$? -eq 3 ]

## Everything: lint, types, generated/ up to date, unit and real-cluster tests.
test: $(STAMP) test-assets lint typecheck verify-generated
	$(BIN)/pytest -q

unit: $(STAMP)
	$(BIN)/pytest -q -m "not cluster"

## A real cluster in the foreground for manual use; prints KUBECONFIG=<path>.
cluster: $(STAMP) test-assets
	$(BIN)/python -m tests.harness --server $(SERVER)

bench: $(STAMP) test-assets
	$(BIN)/pip install -q -e '.[bench]'
	-bash scripts/build-clientgo-bench.sh  # client-go peer; on failure reported "not built"
	$(BIN)/python -m benchmarks

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache
