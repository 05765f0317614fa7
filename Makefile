# RadLabel: `make run` starts the app on the demo study, `make test` runs the whole suite headless.
PY ?= python3
VENV := .venv
VPY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run test lint format bench venv check-system clean bundle twin-venv twin-check twin-pack

$(STAMP): pyproject.toml
	@PY=$(PY) bash scripts/check_system.sh
	@$(VPY) -m pip --version >/dev/null 2>&1 || $(PY) -m venv $(VENV)
	$(VPY) -m pip install -q --upgrade pip
	$(VPY) -m pip install -q -e '.[dev]'
	@touch $(STAMP)

venv: $(STAMP)

check-system:
	@PY=$(PY) bash scripts/check_system.sh

run: $(STAMP)
	@PY=$(PY) bash scripts/check_system.sh gui
	$(VPY) main.py resources/demo/ct_abdomen_demo.nii.gz

test: $(STAMP)
	$(VPY) -m ruff check .
	$(VPY) -m ruff format --check .
	QT_QPA_PLATFORM=offscreen $(VPY) -m pytest

lint: $(STAMP)
	$(VPY) -m ruff check .
	$(VPY) -m ruff format --check .
	$(VENV)/bin/lint-imports

format: $(STAMP)
	$(VPY) -m ruff format .
	$(VPY) -m ruff check --fix .

bench: $(STAMP)
	QT_QPA_PLATFORM=offscreen $(VPY) benchmarks/run_all.py

# build, print the size report (20 largest files and folders, the .tar.gz size), self-test it
bundle: $(STAMP)
	$(VPY) -m PyInstaller --noconfirm --log-level WARN build_spec/radlabel.spec
	$(VPY) scripts/bundle_report.py dist/radlabel --archive dist/radlabel.tar.gz --limit-mb 800
	bash scripts/check_bundle.sh dist/radlabel/radlabel

# the PyTorch twin (docs/gpu_training.md): its own git-ignored venv, never the product's
TWIN_VENV := .venv-twin
TWIN_PY := $(TWIN_VENV)/bin/python
TWIN_STAMP := $(TWIN_VENV)/.installed

$(TWIN_STAMP):
	@$(TWIN_PY) -m pip --version >/dev/null 2>&1 || $(PY) -m venv $(TWIN_VENV)
	$(TWIN_PY) -m pip install -q "torch>=2.1,<3" "numpy>=1.26,<3" "scipy>=1.11,<2" "scikit-image>=0.22,<0.27" "safetensors>=0.4,<1"  # pyproject's `twin` extra
	@touch $(TWIN_STAMP)

twin-venv: $(TWIN_STAMP)

# the twin and the Paddle network give the same logits for the same weights, both ways
twin-check: $(STAMP) $(TWIN_STAMP)
	$(VPY) scripts/check_torch_twin.py paddle --dir out/twin_check
	$(TWIN_PY) scripts/check_torch_twin.py torch --dir out/twin_check
	$(VPY) scripts/check_torch_twin.py import --dir out/twin_check

clean:
	rm -rf $(VENV) build dist .pytest_cache .ruff_cache
