# Front door: installs what is missing (Debian 12, as root), then drives CMake.
BUILD      ?= build
ASAN_BUILD ?= build-asan
FUZZ_BUILD ?= build-fuzz
JOBS       ?= $(shell nproc)
FUZZ_SECONDS ?= 60
FUZZ_RUNS    ?=

# Debian packages: build, test-only, benchmark peer.
PKGS_BUILD = build-essential cmake pkg-config libopenblas-dev libstb-dev libcjson-dev \
             libsodium-dev libmicrohttpd-dev libyaml-dev libjpeg62-turbo-dev zlib1g-dev
PKGS_TEST  = awscli python3-boto3 python3-sklearn python3-numpy chromium
PKGS_BENCH = python3-torch
PKGS_FUZZ  = clang libclang-rt-14-dev

define ensure_pkgs
	@missing=""; for p in $(1); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "Installing:$$missing"; \
	  if [ "$$(id -u)" != 0 ]; then echo "run as root (or install:$$missing)"; exit 1; fi; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null || exit 1; \
	fi
endef

.PHONY: all deps deps-test deps-bench deps-fuzz build test test-asan demo bench bench-compare \
        bench-accuracy fuzz install clean

all: build

deps:
	$(call ensure_pkgs,$(PKGS_BUILD))
deps-test: deps
	$(call ensure_pkgs,$(PKGS_TEST))
deps-bench: deps
	$(call ensure_pkgs,$(PKGS_BENCH))
deps-fuzz: deps
	$(call ensure_pkgs,$(PKGS_FUZZ))

build: deps
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release >/dev/null
	cmake --build $(BUILD) -j $(JOBS)

test: deps-test build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

# The same suite built with AddressSanitizer + UndefinedBehaviorSanitizer (CI runs it after `make test`).
test-asan: deps-test
	cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DLOOKOUT_SANITIZE=ON >/dev/null
	cmake --build $(ASAN_BUILD) -j $(JOBS)
	cd $(ASAN_BUILD) && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	  ctest --output-on-failure -j $(JOBS) -LE slow

demo: build
	./$(BUILD)/lookout demo

bench: build
	@for b in $(BUILD)/bench/*; do [ -x "$$b" ] && [ -f "$$b" ] && echo "== $$b" && "$$b" || true; done

bench-compare: build deps-bench
	./bench/compare.sh $(BUILD)

bench-accuracy: build
	./bench/accuracy.sh $(BUILD)

fuzz: deps-fuzz
	CC=clang cmake -S . -B $(FUZZ_BUILD) -DLOOKOUT_FUZZ=ON -DCMAKE_BUILD_TYPE=Debug >/dev/null
	cmake --build $(FUZZ_BUILD) -j $(JOBS)
	FUZZ_RUNS=$(FUZZ_RUNS) ./tests/fuzz/run.sh $(FUZZ_BUILD) $(FUZZ_SECONDS)

install: build
	cmake --install $(BUILD)

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(FUZZ_BUILD)
