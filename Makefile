# `make run` and `make test` each set up everything they need on a fresh machine.
SHELL := /bin/bash
VENV  := .venv
PY    := $(VENV)/bin/python
SCENARIO ?= scenarios/baseline.yaml

.PHONY: run test test-all setup assets browser viz bench posterior clean

$(VENV)/.installed: pyproject.toml
	@test -x $(PY) || "$$(scripts/find-python)" -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $@

setup: $(VENV)/.installed

# Solara loads its JavaScript from a CDN this machine cannot reach: bring it from the npm registry.
assets: $(VENV)/.installed
	bash scripts/fetch-solara-assets

# Debian chromium for the browser tests (never `playwright install`, which downloads its own build).
browser:
	@command -v chromium >/dev/null 2>&1 || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

# The main job: the baseline over its shipped posterior (calibration/baseline_posterior/), one
# parameter draw per replicate, so the bands and P(target) carry parameter uncertainty; 20
# replicates of 4,000 agents, about 25 s. `make run SCENARIO=scenarios/escalation.yaml` runs
# another scenario with the same options (its own parameters unless it names a posterior).
RUN_SCENARIO ?= calibration/baseline_posterior/fitted.yaml
RUN_OPTIONS  ?= --replicates 20 --firms 4000
run: setup
	$(VENV)/bin/clustersim run $(if $(filter command line,$(origin SCENARIO)),$(SCENARIO),$(RUN_SCENARIO)) $(RUN_OPTIONS) --overwrite  # replaces only its own earlier output

viz: setup assets
	$(VENV)/bin/clustersim viz $(SCENARIO)

test: setup assets browser
	$(PY) -m pytest -q

test-all: setup assets browser
	$(PY) -m pytest -q -m ''

bench: setup
	$(PY) -m benchmarks.scale --sizes 10000,100000,1000000 --steps 12 --reference

# The shipped posterior of the baseline (calibration/README.md): ABC-SMC over the free rows of the
# targets file, 2,000 simulations at 2,000 agents on a local Dask cluster of 2 workers, each run
# to 2023-12 (the last year with targets: later years cannot inform the fit), each moment
# corrected by its small-size bias against 10,000 agents (the size of validation). Resumes
# from calibration/baseline_posterior.abc_history.db if an earlier run was killed; same seed,
# same posterior, whatever the workers.
posterior: setup
	$(VENV)/bin/clustersim calibrate scenarios/baseline.yaml --method abc --set run.end=2023-12 \
	  --targets calibration/targets_baseline.csv --firms 2000 --population 100 --budget 2000 \
	  --predictive 40 --size-bias 10000 --seed 42 --dask-local 2 --out calibration/baseline_posterior \
	  --overwrite

clean:
	rm -rf $(VENV) .cache runs
