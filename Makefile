# Two commands matter: `make demo` (the live show) and `make test`. Both set up .venv first.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# The CPU build of torch: pip takes a local wheel where one lies in its find-links, and the
# registry's build otherwise. For a GPU box, see docs/training.md ("On a GPU box").
TORCH_SPEC ?= torch==2.13.0

.PHONY: setup demo test bench soak lint clean

setup: $(STAMP)

$(STAMP): setup.cfg pyproject.toml Makefile
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade "pip>=23" "setuptools<81" wheel
	$(PY) -m pip install --quiet "$(TORCH_SPEC)"
	$(PY) -m pip install --quiet -e ".[train,dev]" "$(TORCH_SPEC)"
	@# pygame-ce (its smoothscale is SIMD: 4K at 30+ fps without a graphics card) shares the
	@# pygame folder with pygame, which an older .venv may hold: remove it, then restore ce.
	@if $(PY) -m pip show pygame >/dev/null 2>&1; then \
	  $(PY) -m pip uninstall --quiet -y pygame && \
	  $(PY) -m pip install --quiet --force-reinstall --no-deps "pygame-ce>=2.5"; fi
	@touch $(STAMP)

demo: setup
	$(PY) -m installation.demo $(if $(SOURCE),--source $(SOURCE)) $(if $(DEMO_SECONDS),--seconds $(DEMO_SECONDS))

test: setup
	SDL_VIDEODRIVER=dummy SDL_AUDIODRIVER=dummy $(PY) -m pytest -q

bench: setup
	SDL_VIDEODRIVER=dummy SDL_AUDIODRIVER=dummy $(PY) -m benchmarks

# Eight hours of show at max speed: memory growth and lost/doubled samples, as one JSON line.
soak: setup
	SDL_VIDEODRIVER=dummy SDL_AUDIODRIVER=dummy $(PY) -m benchmarks.soak

lint: setup
	$(PY) -m ruff check .

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
