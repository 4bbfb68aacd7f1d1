# contextd: `make run` and `make test` do all set-up on a fresh Debian 12 machine.
BUILD_DIR ?= build
JOBS ?= 2
PORT ?= 8080
DATA_DIR ?= ./data

.PHONY: deps node-deps build run test bench clean

deps:
	@./.ci/install-deps

$(BUILD_DIR)/CMakeCache.txt: | deps
	cmake -S . -B $(BUILD_DIR) -DCMAKE_BUILD_TYPE=Release

build: deps $(BUILD_DIR)/CMakeCache.txt
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

test: build node-deps
	cd $(BUILD_DIR) && ctest --output-on-failure -j$(JOBS) --timeout 300

# SCALE=10000000 for the scale run; DURATION and CONNS tune the load runs.
bench: build node-deps
	@./.ci/install-deps bench
	BUILD_DIR=$(abspath $(BUILD_DIR)) ./bench/run.sh

clean:
	rm -rf $(BUILD_DIR)
