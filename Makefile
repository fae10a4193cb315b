# The two commands of the README: `make run` and `make test`. Both set everything up first and are
# idempotent: the venv is installed again only when a requirements file changes.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
PORT ?= 7860

.PHONY: run test setup model system-deps bench lint clean-venv

run: setup model
	GRADIO_SERVER_PORT=$${GRADIO_SERVER_PORT:-$(PORT)} $(PY) app.py

test: setup model system-deps
	$(PY) -m pytest $(PYTEST_ARGS)

setup: $(STAMP)

$(STAMP): requirements.txt requirements-dev.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements-dev.txt
	touch $(STAMP)

model: setup
	$(PY) -m trainer build-default >/dev/null

system-deps:
	@scripts/install-system-packages.sh

bench: setup model
	for b in bench/*.py; do $(PY) $$b || exit 1; done

clean-venv:
	rm -rf $(VENV)
