# make demo   three v3 workers and the v3 emitter on tasks.csv, then who did which rows
# make lab    the lab's experiments; make lab EXPERIMENT=crash runs one (LAB_ARGS: its options)
# make test   lint and the whole test suite, against a real local RabbitMQ (what CI runs);
#             it never stops, restarts or alarms that broker (throwaway nodes do), and
#             starts a 3-node cluster of its own on ports 5701-5703
# make check  lint and every test but the cluster's and the partition's
# make test-rabbitmq4  the broker tests again, on a RabbitMQ 4.0 node of their own (Debian 13's
#             package in a chroot, scripts/rabbitmq4_node.sh; root; the chroot is built on first
#             use): all but the cluster, TLS, partition and lab-restart tests, which stay on the
#             host's RabbitMQ. PYTEST_ARGS: pytest's options, e.g. PYTEST_ARGS=tests/test_worker.py
# make partition  a 3-node cluster in network namespaces, cut and healed under load (root;
#             under 4 min): one line, exit 0 only if no confirmed row was lost (docs/partitions.md)
# make bench  the benchmarks (bench/), results in bench/results.md; BENCH_ARGS: their options,
#             e.g. make bench BENCH_ARGS="--only worker --runs 7"
# Each target sets up what it needs: .venv with the requirements (the demo, the lab and the
# partition run only requirements.txt; lint, test and bench also requirements-dev.txt; bench
# alone also requirements-bench.txt, the peers Dramatiq and Celery), and a running RabbitMQ.

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python

.PHONY: demo lab test check test-rabbitmq4 partition bench lint broker venv dev bench-deps clean

venv: $(VENV)/.installed
dev: $(VENV)/.installed-dev
bench-deps: $(VENV)/.installed-bench

# the runtime requirements: all the demo, the lab and the six scripts need
$(VENV)/.installed: requirements.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV) || { \
	  echo "make: '$(PYTHON) -m venv' failed; on Debian or Ubuntu install the venv module:"; \
	  echo "  sudo apt-get install python3-venv"; rm -rf $(VENV); exit 1; }
	$(PY) -m pip install -q --disable-pip-version-check -r requirements.txt
	touch $@

# the development tools on top (pytest, ruff, mypy, vermin): only lint, test and bench
$(VENV)/.installed-dev: $(VENV)/.installed requirements-dev.txt
	$(PY) -m pip install -q --disable-pip-version-check -r requirements-dev.txt
	touch $@

# the peers the benchmarks compare the v3 scripts with: only bench
$(VENV)/.installed-bench: $(VENV)/.installed-dev requirements-bench.txt
	$(PY) -m pip install -q --disable-pip-version-check -r requirements-bench.txt
	touch $@

broker:
	bash scripts/ensure_rabbitmq.sh

demo: venv broker
	$(PY) -m tools.demo $(DEMO_ARGS)

lab: venv broker
	$(PY) -m tools.lab $(EXPERIMENT) $(LAB_ARGS)

lint: dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	$(VENV)/bin/vermin --quiet --violations --no-tips --target=3.10- --exclude-regex '^\./(\.venv|bench/out)/' .

test: dev broker lint
	$(PY) -m pytest

check: dev broker lint
	$(PY) -m pytest -m "not cluster and not partition"

# the broker tests that run on any broker under test (harness/broker.py, RABBITMQ_TEST_*)
RABBITMQ4_TESTS := broker and not cluster and not tls and not partition and not own_node

test-rabbitmq4: dev
	bash scripts/rabbitmq4_node.sh with $(PY) -m pytest -m "$(RABBITMQ4_TESTS)" $(PYTEST_ARGS)

partition: venv broker
	$(PY) -m tools.partition $(PARTITION_ARGS)

bench: bench-deps broker
	$(PY) -m bench.run_all $(BENCH_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache logs/*.log
