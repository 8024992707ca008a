# vrd: the two commands a fresh clone needs are `make demo` and `make test`; both set up
# the Python venv with libtorch and the default model first (scripts/setup, a no-op when
# already done) and build through scripts/cargo, which points tch at that libtorch;
# `make test` adds the test suite's Python packages (aw-server: `scripts/setup --tests`).
#
#   VRD_VENV=DIR   where the venv lives (default .venv)
#   VRD_CUDA=1     full CUDA torch and a CUDA-enabled build (torch_cuda force-linked)
#   PREFIX=DIR     where `make install` puts the tools (default ~/.local: bin/ and lib/vrd; the
#                  person's data, ~/.local/share/vrd, is never touched)

SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
CARGO := scripts/cargo
BIN := target/release
DEMO_DIR := target/demo
PREFIX ?= $(HOME)/.local

.PHONY: all setup test-deps build demo-tools demo feed test lint fmt clean install uninstall bench bench-quality goldens

all: build

setup:
	@scripts/setup

# scripts/build: on a fresh clone the torch-free crates compile while setup downloads torch.
build:
	@scripts/build

# The four tools the demo runs, and no more: vrd-label's page and TUI (askama, tiny_http,
# crossterm and its binary) come with `make build`, `make test` or `make install`. --bin
# only filters targets: the features stay the whole workspace's, so that later build
# compiles vrd-label's own crates and nothing twice.
DEMO_TOOLS := vrd-ingest vrd-encode vrd-train vrd-rank
demo-tools:
	@scripts/build $(DEMO_TOOLS:%=--bin %)

# What the tests need beyond Rust and Python: Debian's chromium and tmux (installed as
# root or through sudo -n, else it says what to run) and ../shared/data (checked).
test-deps:
	@scripts/setup-test-deps

# The pipeline on the shipped fixtures, feeds on stdout (progress and summaries go to
# stderr): first a new user (Takeout history → watch events → embeddings → a cold-start
# feed), then a person with labels and an activity timeline (fixtures/person, made by
# `vrd-train simulate`): embeddings and activity windows → a model evaluated on
# time-series folds → the feed for a weekday evening after some gaming.
demo: demo-tools
	@mkdir -p $(DEMO_DIR)
	@echo "== vrd-ingest takeout fixtures/takeout/watch-history.json" >&2
	@$(BIN)/vrd-ingest takeout fixtures/takeout/watch-history.json -o $(DEMO_DIR)/watch.jsonl
	@echo "== vrd-encode media (history and candidates)" >&2
	@$(BIN)/vrd-encode media $(DEMO_DIR)/watch.jsonl fixtures/candidates.jsonl \
	    -o $(DEMO_DIR)/embeddings.safetensors --previous $(DEMO_DIR)/embeddings.safetensors
	@echo "== vrd-rank --cold-start: the feed" >&2
	@$(BIN)/vrd-rank --cold-start --history $(DEMO_DIR)/watch.jsonl --candidates fixtures/candidates.jsonl \
	    --embeddings $(DEMO_DIR)/embeddings.safetensors -n 10 --format table
	@echo "== vrd-encode media + context (fixtures/person: 250 videos, 900 labels, 2008 app events)" >&2
	@$(BIN)/vrd-encode media fixtures/person/videos.jsonl -o $(DEMO_DIR)/person-media.safetensors \
	    --previous $(DEMO_DIR)/person-media.safetensors
	@$(BIN)/vrd-encode context --labels fixtures/person/labels.jsonl --events fixtures/person/app-events.jsonl \
	    --window 1h --timezone UTC -o $(DEMO_DIR)/person-context.safetensors
	@echo "== vrd-train fit (answers: 3 time-series folds against baselines, then the final model; watch history: the next-watch model)" >&2
	@$(BIN)/vrd-train fit --labels fixtures/person/labels.jsonl --videos fixtures/person/videos.jsonl \
	    --media $(DEMO_DIR)/person-media.safetensors --context $(DEMO_DIR)/person-context.safetensors \
	    --history fixtures/person/watch-history.jsonl --candidates fixtures/person/videos.jsonl \
	    --events fixtures/person/app-events.jsonl --folds 3 --report $(DEMO_DIR)/report.json --plot $(DEMO_DIR)/folds.svg --out $(DEMO_DIR)/model
	@echo "== vrd-rank --model: the feed for 2026-09-15 21:30 UTC" >&2
	@$(BIN)/vrd-rank --model $(DEMO_DIR)/model --candidates fixtures/person/videos.jsonl \
	    --embeddings $(DEMO_DIR)/person-media.safetensors --events fixtures/person/app-events.jsonl \
	    --history fixtures/person/watch-history.jsonl --at 2026-09-15T21:30:00Z -n 10 --format table

# The cron job by hand: ingest → encode → rank into $VRD_HOME (see scripts/crontab.example).
feed: build
	@scripts/cron-feed --format table

# Everything runs against release builds: the encoder is too slow unoptimised, and one
# profile means one libtorch wrapper build.
test: build test-deps
	$(CARGO) test --release --workspace

lint: setup
	cargo fmt --all -- --check
	$(CARGO) clippy --release --workspace --all-targets -- -D warnings

fmt:
	cargo fmt --all

clean:
	cargo clean

# The five tools and the cron job (vrd-cron-feed) on the PATH, with the libtorch and default
# encoder they need beside them, so they keep working after the clone moves or is deleted
# (scripts/install says how).
install: build
	@scripts/install "$(PREFIX)"

uninstall:
	@scripts/install --uninstall "$(PREFIX)"

# Throughput against the Python reference (needs the reference venv: scripts/setup-ref).
bench: build
	scripts/bench-encode

# Quality on real people (../shared/data): interest on MovieLens 100k, right time on the
# real ActivityWatch exports, the next watch on the real Takeout histories; the model
# against its baselines on the same splits; the reach of the channels the plan follows
# (BENCHMARKS.md).
bench-quality: build
	scripts/bench-quality
	scripts/bench-right-time
	scripts/bench-next-watch
	scripts/bench-reach

# Regenerates fixtures/golden and fixtures/tiny-xlmr with the reference implementation.
goldens:
	$$(scripts/setup-ref --print-python) scripts/make_goldens.py
