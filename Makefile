# rm_pipelines — `make demo` runs the main job on the embedded defaults, `make test` runs the tests.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
PORT   ?= 3000
HOST   ?= 127.0.0.1
export DAGSTER_HOME ?= $(CURDIR)/.data/dagster_home

.PHONY: install demo test dev system-deps bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP) ## create .venv and install rm_pipelines with its test tools

$(DAGSTER_HOME)/dagster.yaml:
	@mkdir -p $(DAGSTER_HOME)
	cp rm_pipelines/dagster.local.yaml $@

demo: $(STAMP) $(DAGSTER_HOME)/dagster.yaml ## extract the demo org from the embedded sandbox into the SQLite warehouse
	$(BIN)/rm-pipelines demo

test: $(STAMP) ## run the test suite on two workers, one test file per worker (PostgreSQL tests use 127.0.0.1:5432)
	$(BIN)/python -m pytest -n 2 --dist loadfile

dev: $(STAMP) $(DAGSTER_HOME)/dagster.yaml ## open the Dagster web UI on the embedded defaults (http://$(HOST):$(PORT); PORT=… HOST=… to change)
	. $(BIN)/activate && dg dev --use-active-venv --host $(HOST) --port $(PORT)

system-deps: ## Debian packages the project needs at run time (PDF rendering and the fonts reports print with)
	@if ! ldconfig -p | grep -q libpango-1.0.so || ! ldconfig -p | grep -q libharfbuzz-subset.so \
		|| [ ! -f /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ]; then \
		apt-get update -qq && apt-get install -y -qq libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 \
			fonts-dejavu-core >/dev/null; fi

bench: $(STAMP) ## extraction benchmark (prints JSON)
	$(BIN)/python bench/extract.py --units 500 5000

clean:
	rm -rf $(VENV) .data *.egg-info
