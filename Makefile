# make demo   three v3 workers and the v3 emitter on tasks.csv, then who did which rows
# make test   the test suite, against a real local RabbitMQ
# make bench  the benchmarks (bench/), results in bench/results.md
# Each target sets up what it needs: .venv with the requirements, and a running RabbitMQ.

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python

.PHONY: demo test bench lint broker venv clean

venv: $(VENV)/.installed

$(VENV)/.installed: requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check -r requirements-dev.txt
	touch $@

broker:
	bash scripts/ensure_rabbitmq.sh

demo: venv broker
	$(PY) -m tools.demo $(DEMO_ARGS)

lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

test: venv broker lint
	$(PY) -m pytest

bench: venv broker
	$(PY) -m bench.run_all

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache logs/*.log
