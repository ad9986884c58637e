# BigModel Lab: two commands. `make run` serves the app, `make test` runs the whole suite.
# Set-up (a .venv with requirements*.txt) happens once and again only when a requirements file changes.

PY      := .venv/bin/python
PIP     := .venv/bin/pip
STAMP   := .venv/.stamp-setup
REQS    := requirements.txt requirements-nodeps.txt requirements-dev.txt
PORT    ?= 8501

.PHONY: run test test-fast test-gpu bench gpu-check assets setup clean

run: $(STAMP)
	$(PY) -m streamlit run app.py --server.port $(PORT)

test: $(STAMP)
	$(PY) -m pytest

test-fast: $(STAMP)          # everything but the browser
	$(PY) -m pytest --ignore=tests/e2e

test-gpu: $(STAMP)           # the same suite with every heavy workload on the GPU (needs CUDA)
	BIGMODEL_DEVICE=cuda $(PY) -m pytest $(TEST_ARGS)

bench: $(STAMP)              # every result records its device; BIGMODEL_DEVICE=cuda for the GPU rows
	$(PY) -m bench.run $(BENCH_ARGS)

gpu-check:                   # here: fetch the wheels the GPU machine lacks (see scripts/gpu_check.sh)
	bash scripts/gpu_check.sh fetch

assets: $(STAMP)             # remake every trained asset in assets/ (fixed seeds)
	$(PY) scripts/train_assets.py

setup: $(STAMP)

$(STAMP): $(REQS)
	test -x $(PY) || python3 -m venv .venv
	$(PIP) install -q --upgrade pip
	$(PIP) install -q -r requirements.txt -r requirements-dev.txt
	$(PIP) install -q --no-deps -r requirements-nodeps.txt
	touch $(STAMP)

clean:
	rm -rf .venv build .pytest_cache
