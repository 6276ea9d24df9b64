# newsindex — the two commands of the README, and a few more.
#   make run    set up, index the bundled sample articles, serve the site
#   make test   run the whole test suite (what .ci/run does)

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
INDEX  ?= index_data/index

.PHONY: run test install bench clean

run: $(VENV)/.installed
	$(BIN)/newsindex reindex --index $(INDEX) index_data/articles || [ $$? -eq 1 ]  # 1: some input skipped (reported)
	$(BIN)/newsindex serve --index $(INDEX)

test: $(VENV)/.installed-test
	$(BIN)/python -m pytest -ra

install: $(VENV)/.installed

bench: $(VENV)/.installed-bench
	$(BIN)/python bench/build.py
	$(BIN)/python bench/search_latency.py
	$(BIN)/python bench/relevance.py

$(VENV)/.created:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "newsindex needs Python 3.11 or newer (set PYTHON=...)")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	touch $@

$(VENV)/.installed: $(VENV)/.created pyproject.toml
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

$(VENV)/.installed-bench: $(VENV)/.installed
	$(BIN)/python -m pip install --quiet -e '.[bench]'
	touch $@

clean:
	rm -rf $(VENV) $(INDEX) build *.egg-info test-artifacts
