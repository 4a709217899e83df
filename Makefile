# Two commands for a fresh machine with Python 3.11+, pip and make:
#   make run    install into .venv and start the sandbox: Loopbot, a Slack stand-in and demo data, in a browser
#   make test   install into .venv, check the style (ruff) and run the whole test suite
# And for a real workspace:
#   make bot    install into .venv and start Loopbot itself (`loopbot run`, configured by the environment)
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# Your own config/loopbot.yaml when it exists, otherwise the shipped example.
export LOOPBOT_CONFIG ?= $(if $(wildcard config/loopbot.yaml),config/loopbot.yaml,config/loopbot.example.yaml)

.PHONY: run bot test lint install clean

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Loopbot needs Python 3.11 or newer: make PYTHON=python3.11 ...")'
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[test]'
	@touch $@

install: $(VENV)/.installed

run: install
	$(BIN)/loopbot sandbox

bot: install
	$(BIN)/loopbot run

lint: install
	$(BIN)/ruff format --check --quiet .
	$(BIN)/ruff check --quiet .

# Four workers on two cores: most of the suite's time is waiting (processes starting, the emulator,
# minute-aligned jobs), not computing.
test: lint
	$(BIN)/pytest -n 4

clean:
	rm -rf $(VENV) *.egg-info .pytest_cache
