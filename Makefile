# contextd: `make run` and `make test` do all set-up on a fresh Debian 12 machine.
BUILD_DIR ?= build
JOBS ?= 2
PORT ?= 8080
DATA_DIR ?= ./data
# WERROR=ON|OFF sets CONTEXTD_WERROR (warnings are errors) in every build dir a target builds;
# unset, a build dir keeps its setting (OFF when first configured). `make test` sets ON.
WERROR ?=
werror = $(if $(WERROR),-DCONTEXTD_WERROR=$(WERROR))

.PHONY: deps node-deps build build-asan build-fuzz fuzz run test bench clean

deps:
	@./.ci/install-deps

$(BUILD_DIR)/CMakeCache.txt: | deps
	cmake -S . -B $(BUILD_DIR) -DCMAKE_BUILD_TYPE=Release $(werror)

build: deps $(BUILD_DIR)/CMakeCache.txt
	$(if $(werror),cmake -S . -B $(BUILD_DIR) $(werror) >/dev/null)
	cmake --build $(BUILD_DIR) -j$(JOBS)

# Development: without API keys, on 127.0.0.1 only. RUN_FLAGS= (empty) with an
# --admin-key or CONTEXTD_ADMIN_KEY serves with keys, as in production.
RUN_FLAGS ?= --no-auth
run: build
	./$(BUILD_DIR)/contextd --port $(PORT) --data-dir $(DATA_DIR) $(RUN_FLAGS)

# The npm clients the end-to-end tests drive, pinned by tests/node/package-lock.json.
node-deps: deps
	@[ tests/node/node_modules/.package-lock.json -nt tests/node/package-lock.json ] || \
	  npm ci --prefix tests/node --no-audit --no-fund

ASAN_DIR ?= build-asan
# The suites that run a second time under ASan+UBSan: every unit and end-to-end suite but the
# browser, Prism and lint runs (no C++ of ours in them beyond what the others drive) and the
# 100-cycle crash test (run by the first pass).
ASAN_SKIP = node_ui_timeline|prism_contract|openapi_lint|crash_kill9
export ASAN_OPTIONS = detect_leaks=1:abort_on_error=1:strict_string_checks=1
export UBSAN_OPTIONS = print_stacktrace=1:halt_on_error=1

$(ASAN_DIR)/CMakeCache.txt: | deps
	cmake -S . -B $(ASAN_DIR) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCONTEXTD_SANITIZE=ON $(werror)

build-asan: deps $(ASAN_DIR)/CMakeCache.txt
	$(if $(werror),cmake -S . -B $(ASAN_DIR) $(werror) >/dev/null)
	cmake --build $(ASAN_DIR) -j$(JOBS)

# Every build make test does treats warnings as errors, as CI must.
test: WERROR = ON
test: build build-asan node-deps
	cd $(BUILD_DIR) && ctest --output-on-failure -j$(JOBS) --timeout 300
	cd $(ASAN_DIR) && ctest --output-on-failure -j$(JOBS) --timeout 300 -E '$(ASAN_SKIP)'
	$(MAKE) --no-print-directory fuzz FUZZ_SECONDS=10 WERROR=ON

# libFuzzer targets (clang): the HTTP/1.x framing, the request-target parser, JSON and every
# body parser, the timestamp parser, the CometD message handling, the whole API. FUZZ_SECONDS per target; make test runs a
# 10-second smoke of each.
FUZZ_DIR ?= build-fuzz
FUZZ_SECONDS ?= 60
FUZZ_TARGETS = uri json_bodies timestamp cometd api http1

$(FUZZ_DIR)/CMakeCache.txt: | deps
	CC=clang CXX=clang++ cmake -S . -B $(FUZZ_DIR) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCONTEXTD_FUZZ=ON $(werror)

build-fuzz: deps $(FUZZ_DIR)/CMakeCache.txt
	$(if $(werror),cmake -S . -B $(FUZZ_DIR) $(werror) >/dev/null)
	cmake --build $(FUZZ_DIR) -j$(JOBS)

fuzz: build-fuzz
	./tests/fuzz/run.sh $(FUZZ_DIR) $(FUZZ_SECONDS) $(FUZZ_TARGETS)

# SCALE=10000000 for the scale run; DURATION and CONNS tune the load runs; INTERACTIONS the
# records loaded into the Redis Cluster to measure their memory (default SCALE).
bench: build node-deps
	@./.ci/install-deps bench
	BUILD_DIR=$(abspath $(BUILD_DIR)) ./bench/run.sh

clean:
	rm -rf $(BUILD_DIR) $(ASAN_DIR) $(FUZZ_DIR)
