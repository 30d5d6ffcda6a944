# Two commands do all the set-up on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PORT ?= 8080

.PHONY: install run job test bench bench-local clean

$(VENV)/.installed: requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -r requirements-dev.txt
	touch $@

install: $(VENV)/.installed

run: install
	PORT=$(PORT) $(PY) -m devstack.run

# Run one scheduled job of app.py now against the running `make run` stack:
# make job NAME=expire_messages (purge_deleted_mailboxes, purge_deleted_users, sweep_mail_bucket)
job: install
	$(PY) -m devstack.jobs $(NAME) --port $(PORT)

test: install
	$(VENV)/bin/ruff check --quiet .
	$(PY) -m pytest -q -n 2 -p no:cacheprovider $(PYTEST_ARGS)

bench: install
	$(PY) -m bench.foundation
	$(PY) -m bench.security
	$(PY) -m bench.messages
	$(PY) -m bench.contention

# A working day on the local stack: REQUESTS mixed requests, peak memory, slowest request.
bench-local: install
	$(PY) -m bench.localstack --requests $(or $(REQUESTS),10000)

clean:
	rm -rf $(VENV)
