# Two commands do everything on a fresh clone:
#   make run    bootstrap .venv, install the dictionary, build the index, start the main job
#   make test   the same bootstrap, then the whole test suite
# The long runs, each on its own:
#   make crash      50 random kills of a reindex, after the four named crash points
#   make soak       10,000 questions through the local Discord stand-in
#   make bench      the full benchmark (1k, 10k, 100k passages), figures into benchmarks/
#   make test-long  the whole suite (the benchmark's smoke run too), 10,000 examples per property
#   make reindex-time  `python -m bot reindex` unchanged and after adding one article

PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-stamp

.PHONY: run test test-long lint eval eval-heldout bench crash soak reindex-time dictionary clean

# uv installs the dependencies in about 10 s where pip takes 35; pip is the fallback when
# uv cannot be had. The bytecode is compiled at install: the tests' processes run with
# PYTHONDONTWRITEBYTECODE on some machines and would otherwise compile every import.
$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	@echo "Installing the dependencies into $(VENV) (about a minute, once)…"
	@$(PY) -m pip install --quiet --disable-pip-version-check uv 2>/dev/null \
	  && $(VENV)/bin/uv pip install --quiet --python $(PY) --compile-bytecode -e '.[dev]' \
	  || $(PY) -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $(STAMP)

dictionary:
	@bash scripts/ensure-dictionary.sh

# Ctrl-C is how one stops the bot or the terminal session, not a failure: exit 130 (SIGINT)
# is a normal end, and the trap keeps this recipe's shell alive to say so (make, which gets
# the Ctrl-C too, then stops without an "Error 130" or "Interrupt").
run: $(STAMP) dictionary
	@trap : INT; $(PY) -m bot start || [ $$? -eq 130 ]

# pytest exit 5 means "no tests collected": that is a failure, not a pass. The ci profile
# runs every property on the same 400 derandomized examples, so a failure reproduces.
# The tests run on every core (pytest-xdist), a file per worker at a time (its fixtures are
# built once); `long` tests (the benchmark's smoke run) run in `make test-long`. The suite
# starts a few hundred Python processes (CLIs, bots, reindex children): their bytecode is
# compiled first, once, since PYTHONDONTWRITEBYTECODE would have each compile it again.
test: $(STAMP) dictionary
	@$(PY) -m compileall -q bot index benchmarks tests  # bytecode for every test process
	@$(PY) -m pytest -q --hypothesis-profile=ci -n auto --dist loadfile -m "not long"; status=$$?; \
	if [ $$status -eq 5 ]; then echo "error: pytest collected no tests" >&2; exit 1; fi; \
	exit $$status

test-long: $(STAMP) dictionary
	$(PY) -m pytest -q --hypothesis-profile=long -n auto --dist loadfile

crash: $(STAMP)
	$(PY) scripts/crash_reindex.py --trials 50

soak: $(STAMP) dictionary
	$(PY) -m benchmarks.soak --questions 10000 --json benchmarks/soak-10000-$$(date +%F).json

bench: $(STAMP) dictionary
	$(PY) -m benchmarks.bench --json benchmarks/results-$$(date +%F).json

reindex-time: $(STAMP) dictionary
	$(PY) -m benchmarks.reindex_time --trials 5

lint: $(STAMP)
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PY) -m mypy

# Every public dev set, each over its own articles in a temporary database, one table each.
XQUAD := ../shared/eval/xquad-dev
eval: $(STAMP) dictionary
	$(PY) -m bot eval ../shared/eval/questions.jsonl eval/seed-dev2.jsonl --articles seeds
	$(PY) -m bot eval $(XQUAD)/en-paragraph.jsonl $(XQUAD)/de-paragraph.jsonl \
		$(XQUAD)/en-answer.jsonl $(XQUAD)/de-answer.jsonl --articles $(XQUAD)/articles

# The held-out questions on the seeds (eval/README.md): measured, never tuned on.
eval-heldout: $(STAMP) dictionary
	$(PY) -m bot eval eval/seed-heldout.jsonl --articles seeds

clean:
	rm -rf $(VENV) data .pytest_cache .mypy_cache .ruff_cache .hypothesis
