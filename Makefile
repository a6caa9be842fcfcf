# The two commands a newcomer needs: `make run` and `make test`.
PORT ?= 8000
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run test install lint pytest solver-benchmark load-benchmark messages clean

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	@touch $@

install: $(STAMP)

## run: create .venv, install, migrate, load the demo alliance, solve its round, serve on 127.0.0.1:$(PORT)
run: install
	PORT=$(PORT) bash scripts/run.sh

## test: the linters and the whole suite (SQLite and eager Celery unless DATABASE_URL/CELERY_BROKER_URL are set)
test: install lint pytest

lint:
	$(VENV)/bin/ruff check .
	$(PY) manage.py makemigrations --check --dry-run
	$(PY) manage.py check

pytest:
	$(PY) manage.py collectstatic --noinput -v0
	$(PY) scripts/pytest_strict.py $(PYTEST_ARGS)

solver-benchmark: install
	$(PY) benchmarks/solver.py

## load-benchmark: seed PostgreSQL (gacp_ops) with 1,000,000 allocation lines, serve with gunicorn, measure with wrk
load-benchmark: install
	$(PY) benchmarks/load/run.py $(LOAD_ARGS)

## messages: refresh the translation catalogues from the source, then compile them
LANGUAGES := fr es pt ar
messages: install
	$(PY) manage.py makemessages $(addprefix -l ,$(LANGUAGES)) --no-obsolete \
		--ignore=.venv --ignore=tests --ignore=benchmarks --ignore=staticfiles --ignore=test-artifacts
	$(PY) manage.py compilemessages $(addprefix -l ,$(LANGUAGES)) --ignore=.venv

clean:
	rm -rf $(VENV) db.sqlite3 staticfiles .pytest_cache .ruff_cache
