# BigModel Lab: two commands. `make run` serves the app, `make test` runs the whole suite.
# Set-up (a .venv with requirements*.txt) happens once and again only when a requirements file changes.

PY      := .venv/bin/python
PIP     := .venv/bin/pip
STAMP   := .venv/.stamp-setup
REQS    := requirements.txt requirements-nodeps.txt requirements-dev.txt
PORT    ?= 8501

.PHONY: run serve test test-fast test-gpu bench rerun-table memory load hostile browser gpu-check assets setup clean

run: $(STAMP)
	$(PY) -m streamlit run app.py --server.port $(PORT)

serve: $(STAMP)              # a class: one app process per core behind nginx on :8080 (deploy/serve.py)
	$(PY) -m deploy.serve $(SERVE_ARGS)

test: $(STAMP) browser
	$(PY) -m pytest

browser: $(STAMP)            # Chromium for the browser tests: Debian's (root) or Playwright's own
	$(PY) scripts/setup_test_browser.py

test-fast: $(STAMP)          # everything but the browser
	$(PY) -m pytest --ignore=tests/e2e

test-gpu: $(STAMP)           # the same suite with every heavy workload on the GPU (needs CUDA)
	BIGMODEL_DEVICE=cuda $(PY) -m pytest $(TEST_ARGS)

bench: $(STAMP)              # every result records its device; BIGMODEL_DEVICE=cuda for the GPU rows
	$(PY) -m bench.run $(BENCH_ARGS)

rerun-table: $(STAMP)        # every control beside a bare one-slider Streamlit page, same probe, same run
	$(PY) -m bench.rerun_table $(BENCH_ARGS)

memory: $(STAMP)             # server memory after each page's first visit (target: 1.0 GB with all pages)
	$(PY) -m bench.memory

load: $(STAMP)               # many learners against 1 process and nginx + 2 processes (bench/load.py)
	$(PY) -m bench.load $(LOAD_ARGS)

hostile: $(STAMP)            # 27 hostile inputs against a fresh app process (bench/hostile.py)
	$(PY) -m bench.hostile

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
