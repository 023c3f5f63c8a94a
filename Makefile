# The two commands of the README. Both set everything up on first run (idempotent, fast when done).
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
export ROS_AUTOMATIC_DISCOVERY_RANGE := LOCALHOST
export ROS_DOMAIN_ID ?= 42
export PYTHONUNBUFFERED := 1

.PHONY: setup demo test lint clean

setup:
	@tools/setup_env.sh

demo: setup
	$(PY) -m vlm_ros.cli demo

lint: setup
	$(VENV)/bin/ruff check .

test: setup lint
	$(VENV)/bin/python tools/run_tests.py $(PYTEST_ARGS)

clean:
	rm -rf build $(VENV) .pytest_cache .ruff_cache
