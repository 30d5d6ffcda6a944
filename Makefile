# Two commands do all the set-up on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PORT ?= 8080

.PHONY: install run test bench clean

$(VENV)/.installed: requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -r requirements-dev.txt
	touch $@

install: $(VENV)/.installed

run: install
	PORT=$(PORT) $(PY) -m devstack.run

test: install
	$(VENV)/bin/ruff check --quiet .
	$(PY) -m pytest -q -n 2 -p no:cacheprovider $(PYTEST_ARGS)

bench: install
	$(PY) -m bench.foundation
	$(PY) -m bench.security
	$(PY) -m bench.messages
	$(PY) -m bench.contention
	$(PY) -m bench.realtime

clean:
	rm -rf $(VENV)
