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

# Ctrl-C is how one stops the bot or the terminal session, not a failure: exit 130 (SIGINT)
# is a normal end, and the trap keeps this recipe's shell alive to say so (make, which gets
# the Ctrl-C too, then stops without an "Error 130" or "Interrupt").
run: $(STAMP) dictionary
	@trap : INT; $(PY) -m bot start || [ $$? -eq 130 ]

# pytest exit 5 means "no tests collected": that is a failure, not a pass.
test: $(STAMP) dictionary
	@$(PY) -m pytest -q; status=$$?; \
	if [ $$status -eq 5 ]; then echo "error: pytest collected no tests" >&2; exit 1; fi; \
	exit $$status

lint: $(STAMP)
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PY) -m mypy

# Every public dev set, each over its own articles in a temporary database, one table each.
XQUAD := ../shared/eval/xquad-dev
eval: $(STAMP) dictionary
	$(PY) -m bot eval ../shared/eval/questions.jsonl --articles seeds
	$(PY) -m bot eval $(XQUAD)/en-paragraph.jsonl $(XQUAD)/de-paragraph.jsonl \
		$(XQUAD)/en-answer.jsonl $(XQUAD)/de-answer.jsonl --articles $(XQUAD)/articles

clean:
	rm -rf $(VENV) data .pytest_cache .mypy_cache .ruff_cache .hypothesis
