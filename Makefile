# make demo   three v3 workers and the v3 emitter on tasks.csv, then who did which rows
# make lab    the lab's experiments; make lab EXPERIMENT=crash runs one (LAB_ARGS: its options)
# make test   lint and the whole test suite, against a real local RabbitMQ (what CI runs);
#             it restarts the broker's application once and starts a 3-node cluster
# make check  lint and every test that leaves your broker running (no restart, no cluster)
# make partition  a 3-node cluster in network namespaces, cut and healed under load (root;
#             under 4 min): one line, exit 0 only if no confirmed row was lost (docs/partitions.md)
# make bench  the benchmarks (bench/), results in bench/results.md
# Each target sets up what it needs: .venv with the requirements, and a running RabbitMQ.

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python

.PHONY: demo lab test check partition bench lint broker venv clean

venv: $(VENV)/.installed

$(VENV)/.installed: requirements.txt requirements-dev.txt
	@$(PYTHON) -m venv $(VENV) || { \
	  echo "make: '$(PYTHON) -m venv' failed; on Debian or Ubuntu install the venv module:"; \
	  echo "  sudo apt-get install python3-venv"; rm -rf $(VENV); exit 1; }
	$(PY) -m pip install -q --disable-pip-version-check -r requirements-dev.txt
	touch $@

broker:
	bash scripts/ensure_rabbitmq.sh

demo: venv broker
	$(PY) -m tools.demo $(DEMO_ARGS)

lab: venv broker
	$(PY) -m tools.lab $(EXPERIMENT) $(LAB_ARGS)

lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	$(VENV)/bin/vermin --quiet --violations --no-tips --target=3.10- --exclude-regex '^\./(\.venv|bench/out)/' .

test: venv broker lint
	$(PY) -m pytest

check: venv broker lint
	$(PY) -m pytest -m "not restart and not cluster and not partition"

partition: venv broker
	$(PY) -m tools.partition $(PARTITION_ARGS)

bench: venv broker
	$(PY) -m bench.run_all

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache logs/*.log
