# Thin wrappers over the `stance` CLI. `make demo` and `make test` are the quick start.
VENV ?= .venv
PYTHON ?= python3
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup demo report lint test test-fast ui bench mutation clean

setup: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev,spark]'
	touch $(STAMP)

demo: setup
	$(BIN)/stance run --config configs/default.yaml
	$(BIN)/stance score data/raw/sample/000_2a888568f9b25d13.txt --output reports/seed_scored.csv --show

# `make report`: score the real corpus's 2022-2023 articles with the champion (trained
# first if this store has none) and write its stance report. The 2024 files stay reserved.
SHARED_DATA ?= ../shared/data
REPORT_ARTICLES := data/interim/report-articles-2022-2023

report: setup
	@test -d $(SHARED_DATA)/ukraine-news/articles || { echo "make report: $(SHARED_DATA)/ukraine-news/articles not found (set SHARED_DATA=...)" >&2; exit 2; }
	$(BIN)/stance models >/dev/null 2>&1 || $(BIN)/stance run --config configs/default.yaml
	rm -rf $(REPORT_ARTICLES) && mkdir -p $(REPORT_ARTICLES)
	ln -s $(abspath $(SHARED_DATA))/ukraine-news/articles/2022*.txt $(abspath $(SHARED_DATA))/ukraine-news/articles/2023*.txt $(REPORT_ARTICLES)/
	$(BIN)/stance score $(REPORT_ARTICLES) --output reports/scored-2022-2023.parquet
	$(BIN)/stance report reports/scored-2022-2023.parquet --output reports/report-2022-2023.html

lint: setup  ## pyflakes and bugbear's bug patterns, and the formatting (pyproject's [tool.ruff])
	$(BIN)/python -m ruff check pipeline tests bench
	$(BIN)/python -m ruff format --check pipeline tests bench

test: setup lint
	$(BIN)/python -m pytest -q

test-fast: setup
	$(BIN)/python -m pytest -q -m "not slow"

ui: setup
	$(BIN)/stance ui

bench: setup  ## the README's benchmark tables (scoring: see README for its longer command)
	$(BIN)/python bench/labeling.py
	$(BIN)/python bench/models.py --sentences 2000
	$(BIN)/python bench/public.py --models tfidf_logreg embed_logreg
	$(BIN)/python bench/splitter.py
	$(BIN)/python bench/hardware.py

mutation: setup  ## mutation testing of the core modules (pyproject's [tool.mutmut]); not run in CI
	$(BIN)/python -m pip install --quiet -e '.[mutation]'
	rm -rf mutants
	$(BIN)/mutmut run --max-children 2
	$(BIN)/mutmut export-cicd-stats
	cat mutants/mutmut-cicd-stats.json

clean:
	rm -rf data/interim data/processed reports models/*/ mlflow.db mlruns mlartifacts
