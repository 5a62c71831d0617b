# yuragi: two commands.
#   make demo   set up .venv (Python 3.10 + pinned deps) and run the end-to-end demo
#   make test   set up .venv and run the test suite (slow tests excluded)
VENV        := .venv
PY          := $(VENV)/bin/python
STAMP       := $(VENV)/.installed
PYTEST_ARGS ?= -q -m "not slow" -n 2

.PHONY: demo test test-all bench setup clean

setup: $(STAMP)

$(STAMP): pyproject.toml constraints.txt
	@interp=$$(scripts/find_python310.sh) || { echo "yuragi needs Python 3.10 (lava-nc 0.10.0 does not import on 3.11): install it, e.g. 'pyenv install 3.10', or set PYTHON310=/path/to/python3.10"; exit 1; }; \
	if [ ! -x $(PY) ] || ! $(PY) -c 'import sys; assert sys.version_info[:2] == (3, 10)' 2>/dev/null; then \
		echo "creating $(VENV) with $$interp"; rm -rf $(VENV); "$$interp" -m venv $(VENV) || exit 1; \
	fi
	$(PY) -m pip install -q --disable-pip-version-check --upgrade "pip==24.3.1"
	$(PY) -m pip install -q --disable-pip-version-check -c constraints.txt -e ".[dev]"
	@touch $(STAMP)

test: $(STAMP)
	@$(PY) -m pytest $(PYTEST_ARGS); rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "make test: pytest collected no tests - failing"; exit 1; fi; exit $$rc

test-all: $(STAMP)
	$(PY) -m pytest -q -n 2

demo: $(STAMP)
	$(VENV)/bin/yuragi demo -o demo_out/$$(date +%Y%m%d-%H%M%S)

bench: $(STAMP)
	@for b in benchmarks/*.py; do echo "== $$b"; $(PY) $$b || exit 1; done

clean:
	rm -rf $(VENV) build *.egg-info
