# Two commands do all the set-up on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PORT ?= 8080

.PHONY: install run job reindex sent test fuzz bench bench-local clean
comma := ,

$(VENV)/.installed: requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade "pip<26.3"  # chalice 1.34 requires pip<26.3
	$(VENV)/bin/pip install --quiet -r requirements-dev.txt
	touch $@

install: $(VENV)/.installed

run: install
	PORT=$(PORT) $(PY) -m devstack.run

# Run one scheduled job of app.py now against the running `make run` stack:
# make job NAME=expire_messages (purge_deleted_mailboxes, purge_deleted_users, sweep_mail_bucket)
job: install
	$(PY) -m devstack.jobs $(NAME) --port $(PORT) $(if $(DETAIL),--detail '$(DETAIL)')

# (Re)build the search index of the running `make run` stack: one account
# (make reindex ACCOUNT=<user id>) or every account; REBUILD=1 rewrites every posting.
# Deployed: python -m chalicelib.services.search.backfill [--user ID] [--rebuild].
reindex: install
	$(PY) -m devstack.jobs reindex_search --port $(PORT) --detail \
		'{$(if $(ACCOUNT),"user": "$(ACCOUNT)","all": true)$(if $(REBUILD),$(comma) "rebuild": true)}'

# What the running `make run` stack sent (moto's SES): one line a mail, or SENT_ARGS=--json
sent: install
	$(PY) -m devstack.sent --port $(PORT) $(SENT_ARGS)

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
	$(PY) -m bench.contention
	$(PY) -m bench.coldstart
	$(PY) -m bench.realtime
	$(PY) -m bench.costs
	$(PY) -m bench.delivery

# A working day on the local stack: REQUESTS mixed requests, peak memory, slowest request.
bench-local: install
	$(PY) -m bench.localstack --requests $(or $(REQUESTS),10000)

clean:
	rm -rf $(VENV)

# --- Deployment (docs/operations.md; README "Deployment") -------------------------
# make package STAGE=prod REGION=eu-west-1          template + code in out/prod, linted
# make deploy  STAGE=prod REGION=eu-west-1 ARTIFACT_BUCKET=my-artifacts [ALARM_EMAIL=..]
# make destroy STAGE=prod REGION=eu-west-1          tables, bucket, key and secret stay
# make secrets STAGE=prod REGION=eu-west-1          random ACCESS_TOKEN/CURSOR_SECRET once
# make bootstrap REGION=eu-west-1 ARTIFACT_BUCKET=my-artifacts    once per account+region
STAGE ?= dev
OUT ?= out/$(STAGE)
DEPLOY := $(PY) -m infra.deploy
.PHONY: package deploy destroy secrets bootstrap need-region need-bucket

need-region:
	@test -n "$(REGION)" || { echo "REGION=<aws region> is required" >&2; exit 2; }

need-bucket:
	@test -n "$(ARTIFACT_BUCKET)" || { echo "ARTIFACT_BUCKET=<bucket> is required (make bootstrap creates one)" >&2; exit 2; }

package: need-region install
	$(PY) -m infra.package --stage $(STAGE) --region $(REGION) --out $(OUT)
	$(VENV)/bin/cfn-lint --regions $(REGION) --include-checks I -- $(OUT)/sam.json

deploy: need-region need-bucket package
	$(DEPLOY) deploy --stage $(STAGE) --region $(REGION) --out $(OUT) \
		--artifact-bucket $(ARTIFACT_BUCKET) $(if $(ALARM_EMAIL),--alarm-email $(ALARM_EMAIL))

destroy: need-region install
	$(DEPLOY) destroy --stage $(STAGE) --region $(REGION) --out $(OUT)

secrets: need-region install
	$(DEPLOY) secrets --stage $(STAGE) --region $(REGION)

bootstrap: need-region need-bucket install
	$(VENV)/bin/cfn-lint --regions $(REGION) -- infra/account.yaml
	$(DEPLOY) bootstrap --region $(REGION) --artifact-bucket $(ARTIFACT_BUCKET)
