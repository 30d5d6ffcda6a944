# Two commands do all the set-up on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PORT ?= 8080

.PHONY: install run test fuzz bench clean

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

# Schemathesis with every check against the local stack (started on a free port in
# 8280-8299 unless FUZZ_URL names a running one, with FUZZ_TOKEN its access token).
# CI-sized by default (also part of `make test`, tests/e2e/test_fuzz.py); a long run:
# make fuzz FUZZ_ARGS=--long. Results in fuzz/out/ (summary.json).
fuzz: install
	$(PY) -m fuzz.run $(if $(FUZZ_URL),--url $(FUZZ_URL) --token "$(FUZZ_TOKEN)") $(FUZZ_ARGS)

bench: install
	$(PY) -m bench.foundation
	$(PY) -m bench.security
	$(PY) -m bench.messages

clean:
	rm -rf $(VENV)
