# Set-up and the two everyday commands. Each target creates the virtual environment on first use.
#   make quickstart   run the quickstart study (embedded local Ray, CPU is fine) into runs/
#   make test         run the test suite (fast tier; `make test-slow` for the slow tier)
# TORCH selects the torch requirement installed first (default: the 2.13.0 build; on a CUDA
# machine, e.g. `make test TORCH='torch>=2.3'`).

VENV   ?= .venv
PY     := $(VENV)/bin/python
TORCH  ?= torch==2.13.0
PYTEST_ARGS ?=

.PHONY: venv quickstart test test-slow lint bench clean-venv

# pip's own output (and its progress bars on a terminal) shows what the minutes go to.
$(VENV)/.installed: pyproject.toml
	@echo "==> creating $(VENV) (first use only: a few minutes, most of it torch)"
	python3 -m venv $(VENV)
	$(PY) -m pip install --progress-bar on --upgrade pip
	@echo "==> installing $(TORCH)"
	$(PY) -m pip install --progress-bar on "$(TORCH)"
	@echo "==> installing hybridmoo with its test extra"
	$(PY) -m pip install --progress-bar on -e '.[test]'
	touch $@
	@echo "==> $(VENV) ready"

venv: $(VENV)/.installed

quickstart: venv
	$(VENV)/bin/hybridmoo run studies/quickstart.toml --overwrite

test: venv
	$(PY) -m pytest $(PYTEST_ARGS)

test-slow: venv
	$(PY) -m pytest -m slow $(PYTEST_ARGS)

lint: venv
	$(VENV)/bin/ruff check hybridmoo tests benchmarks

clean-venv:
	rm -rf $(VENV)
