# Two commands do everything on a fresh clone:
#   make run    bootstrap .venv, install the dictionary, build the index, start the main job
#   make test   the same bootstrap, then the whole test suite

PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-stamp

.PHONY: run test lint eval bench dictionary clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(PY) -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $(STAMP)

dictionary:
	@bash scripts/ensure-dictionary.sh

run: $(STAMP) dictionary
	$(PY) -m bot start

# pytest exit 5 means "no tests collected": that is a failure, not a pass.
test: $(STAMP) dictionary
	@$(PY) -m pytest -q; status=$$?; \
	if [ $$status -eq 5 ]; then echo "error: pytest collected no tests" >&2; exit 1; fi; \
	exit $$status

lint: $(STAMP)
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PY) -m mypy

eval: $(STAMP) dictionary
	$(PY) -m bot eval ../shared/eval/questions.jsonl --verbose

clean:
	rm -rf $(VENV) data .pytest_cache .mypy_cache .ruff_cache .hypothesis
