# MedGAN Lab — every target installs what it needs first (`make setup` is idempotent).
#   make test        what CI runs: lint, release sync, nbval (float16 + XLA), grading loop
#                    (auto and bf16 precision), GPU-path and package tests
#   make reproduce   run the course end to end; report in build/report/index.html
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# cpu | gpu (TensorFlow distribution) plus the course and developer tools
EXTRAS ?= cpu,course,dev
comma := ,
STAMP := $(VENV)/.installed-$(subst $(comma),-,$(EXTRAS))
PYTEST_WORKERS ?= 2
export PATH := $(abspath $(BIN)):$(PATH)
# Hide TensorFlow's C++ start-up and Grappler lines in every kernel and test (errors still raise).
export TF_CPP_MIN_LOG_LEVEL ?= 3

.PHONY: help setup browser lab test test-unit test-notebooks lint format release check-release \
        reproduce artifacts bench data grade clean setup-sandbox

help:
	@grep -E '^#   make' Makefile | sed 's/^#   //'
	@echo "  make setup | lab | release | bench | data | grade ASSIGNMENT=.. SUBMISSIONS=.. | clean"

setup: $(STAMP)

$(STAMP): pyproject.toml constraints.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -c constraints.txt -e ".[$(EXTRAS)]"
	@# TF_CPP_MIN_LOG_LEVEL=3 before TensorFlow loads: notebooks import keras before medganlab,
	@# so only the kernel's environment can hide TensorFlow's harmless C++ log lines.
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 --display-name "Python 3 (ipykernel)" \
	  --env TF_CPP_MIN_LOG_LEVEL 3 >/dev/null
	@touch $@
	@echo "setup: $(VENV) ready ($(EXTRAS))"

# bubblewrap sandboxes graded submissions (autograder/README.md). Installed when root with
# apt-get (CI, hub images); elsewhere grading warns loudly that it is not sandboxed.
setup-sandbox:
	@if command -v bwrap >/dev/null; then echo "setup-sandbox: bubblewrap present"; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  apt-get install -y -qq bubblewrap >/dev/null 2>&1 || \
	  { apt-get update -qq && apt-get install -y -qq bubblewrap; }; \
	else echo "setup-sandbox: WARNING: no bubblewrap and no way to install it here;" \
	  "medganlab grade will NOT sandbox submissions (autograder/README.md)" >&2; fi

lab: setup
	$(BIN)/jupyter lab --notebook-dir=.

lint: setup
	$(BIN)/ruff check src tests autograder solutions/*/*.py
	$(BIN)/ruff format --check src tests

format: setup
	$(BIN)/ruff format src tests
	$(BIN)/ruff check --fix src tests

release: setup
	$(BIN)/medganlab release

# notebooks/ (and the generated solution .ipynb) must equal a fresh generation.
check-release: release
	@git diff --exit-code --stat -- notebooks solutions || \
	  { echo "notebooks/ or solutions/*.ipynb differ from a fresh 'make release': run it and commit"; exit 1; }
	@untracked=$$(git status --porcelain --untracked-files=all -- notebooks solutions | grep '^??' || true); \
	  if [ -n "$$untracked" ]; then echo "untracked generated files:"; echo "$$untracked"; exit 1; fi

# Headless Chromium for the report's browser test (Debian's package; skipped, with the
# reason, where it cannot be installed).
browser:
	@command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || \
	  { if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	      echo "installing chromium (apt) for the report's browser test"; \
	      (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) >/dev/null \
	        || echo "could not install chromium: the browser test will be skipped"; \
	    else echo "chromium not found: the browser test will be skipped (apt-get install chromium)"; fi; }

test-unit: setup browser
	MEDGANLAB_PROFILE=smoke $(BIN)/python -m pytest -q -n $(PYTEST_WORKERS) --dist loadfile --durations=15 tests

# nbval runs every solution on the GPU code path: mixed_float16 (loss scaling) with XLA on.
# The machine's own precision (float32, or bf16 where the CPU has it) and forced bf16 run
# the same notebooks in the grading loop (tests/test_release_solutions.py): each notebook
# runs once per precision path.
# NB_PRECISION=mixed_bfloat16 make test-notebooks runs them as a bf16 CPU would.
NB_PRECISION ?= mixed_float16
test-notebooks: setup
	MEDGANLAB_PRECISION=$(NB_PRECISION) MEDGANLAB_XLA=1 MEDGANLAB_PROFILE=smoke $(BIN)/python -m pytest \
	  -q --nbval-lax --nbval-current-env -p no:cacheprovider solutions

# nbval first: running the solutions in order also exports the smoke artifacts that later
# assignments load (as `make artifacts` does for a chosen profile).
test: setup setup-sandbox lint check-release test-notebooks test-unit
	@echo "make test: all checks passed"

# Reference generators (and 07's synthetic set) for later assignments: run the GAN solutions
# in the active profile, then zip them for Colab (build/reference_artifacts.zip).
artifacts: setup
	$(BIN)/medganlab reproduce --only 01_dcgan 02_conditional_gan 03_multiscale_attention_gan 07_pix2pix_ct
	$(BIN)/medganlab artifacts pack

reproduce: setup
	$(BIN)/medganlab reproduce
	@echo "open build/report/index.html"

bench: setup setup-sandbox
	$(BIN)/python -m medganlab.bench
	MEDGANLAB_SLOW=1 MEDGANLAB_PROFILE=smoke $(BIN)/python -m pytest -q -p no:cacheprovider \
	  tests/test_grading_hostile.py

data: setup
	$(BIN)/medganlab data cxr --out datasets/cxr_phantom
	$(BIN)/medganlab data ct --out datasets/kidney_ct_phantom

grade: setup setup-sandbox
	@test -n "$(ASSIGNMENT)" -a -n "$(SUBMISSIONS)" || \
	  { echo "usage: make grade ASSIGNMENT=00_setup_and_data SUBMISSIONS=path/to/submissions"; exit 2; }
	$(BIN)/medganlab grade $(ASSIGNMENT) --submissions $(SUBMISSIONS) --out build/grades/$(ASSIGNMENT)

clean:
	rm -rf build .pytest_cache .ruff_cache
