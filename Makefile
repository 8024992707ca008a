# vrd: the two commands a fresh clone needs are `make demo` and `make test`; both set up
# the Python venv with libtorch and the default model first (scripts/setup, a no-op when
# already done) and build through scripts/cargo, which points tch at that libtorch.
#
#   VRD_VENV=DIR   where the venv lives (default .venv)
#   VRD_CUDA=1     full CUDA torch and a CUDA-enabled build (torch_cuda force-linked)

SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
CARGO := scripts/cargo
BIN := target/release
DEMO_DIR := target/demo

.PHONY: all setup build demo test lint fmt clean bench goldens

all: build

setup:
	@scripts/setup

build: setup
	@$(CARGO) build --release --workspace

# The pipeline on the shipped fixtures: Takeout history → watch events → embeddings →
# a cold-start feed on stdout (progress and summaries go to stderr).
demo: build
	@mkdir -p $(DEMO_DIR)
	@echo "== vrd-ingest takeout fixtures/takeout/watch-history.json" >&2
	@$(BIN)/vrd-ingest takeout fixtures/takeout/watch-history.json -o $(DEMO_DIR)/watch.jsonl
	@echo "== vrd-encode media (history and candidates)" >&2
	@$(BIN)/vrd-encode media $(DEMO_DIR)/watch.jsonl fixtures/candidates.jsonl \
	    -o $(DEMO_DIR)/embeddings.safetensors --previous $(DEMO_DIR)/embeddings.safetensors
	@echo "== vrd-rank --cold-start: the feed" >&2
	@$(BIN)/vrd-rank --cold-start --history $(DEMO_DIR)/watch.jsonl --candidates fixtures/candidates.jsonl \
	    --embeddings $(DEMO_DIR)/embeddings.safetensors -n 10 --format table

# Everything runs against release builds: the encoder is too slow unoptimised, and one
# profile means one libtorch wrapper build.
test: build
	$(CARGO) test --release --workspace

lint: setup
	cargo fmt --all -- --check
	$(CARGO) clippy --release --workspace --all-targets -- -D warnings

fmt:
	cargo fmt --all

clean:
	cargo clean

# Throughput against the Python reference (needs the reference venv: scripts/setup-ref).
bench: build
	scripts/bench-encode

# Regenerates fixtures/golden and fixtures/tiny-xlmr with the reference implementation.
goldens:
	$$(scripts/setup-ref --print-python) scripts/make_goldens.py
