# Two commands for a fresh machine with Python 3.11+, pip and make:
#   make run    install into .venv and start Loopbot
#   make test   install into .venv and run the whole test suite
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# Your own config/loopbot.yaml when it exists, otherwise the shipped example.
export LOOPBOT_CONFIG ?= $(if $(wildcard config/loopbot.yaml),config/loopbot.yaml,config/loopbot.example.yaml)

.PHONY: run test install clean

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Loopbot needs Python 3.11 or newer: make PYTHON=python3.11 ...")'
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[test]'
	@touch $@

install: $(VENV)/.installed

run: install
	$(BIN)/loopbot run

test: install
	$(BIN)/pytest

clean:
	rm -rf $(VENV) *.egg-info .pytest_cache
