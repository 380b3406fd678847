# The two commands a newcomer runs: `make demo` and `make test`.
# Each installs what is missing (Debian 12 packages), configures, builds with -j2 and runs.
# `make install PREFIX=~/.local` builds and installs under PREFIX (docs/install.md).

BUILD_DIR ?= build
BUILD_TYPE ?= RelWithDebInfo
JOBS ?= 2
MAKEFLAGS += --no-print-directory
CMAKE_FLAGS ?=
PREFIX ?= /usr/local

.PHONY: all deps configure build test demo install bench clean

all: build

deps:
	@scripts/install-deps.sh

configure: deps
	@cmake -S . -B $(BUILD_DIR) -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) $(CMAKE_FLAGS) >/dev/null

build: configure
	@cmake --build $(BUILD_DIR) -j$(JOBS)

test: build
	@cd $(BUILD_DIR) && ctest --output-on-failure -j$(JOBS) --timeout 600

demo: build
	@scripts/demo.sh $(BUILD_DIR)

install: build
	@cmake --install $(BUILD_DIR) --prefix $(PREFIX)

# Benchmarks build apart, in Release, without internal asserts.
bench: deps
	@cmake -S . -B build-bench -DCMAKE_BUILD_TYPE=Release -DGROUTINES_BUILD_TESTS=OFF >/dev/null
	@cmake --build build-bench -j$(JOBS)
	@build-bench/bench/groutines_core_bench
	@PYTHONPATH=build-bench/python GROUTINES_EXAMPLES=build-bench/groutines /usr/bin/python3 bench/python_backend_bench.py
	@if [ -x build-bench/bench/lldb/plugin_bench ]; then build-bench/bench/lldb/plugin_bench; fi
	@if [ -x build-bench/bench/lldb/python_bench ]; then build-bench/bench/lldb/python_bench; fi
	@if [ -x build-bench/bench/lldb/python_bench ]; then /usr/bin/python3 bench/lldb/instructions.py build-bench; fi
	@if [ -x build-bench/bench/lldb/agent_bench ]; then build-bench/bench/lldb/agent_bench; fi
	@if [ -x build-bench/bench/lldb/bench_target ] && [ -f build-bench/gdb/groutines.py ] && command -v gdb >/dev/null; then /usr/bin/python3 bench/gdb/gdb_bench.py build-bench; fi
	@if [ -x build-bench/bench/lldb/agent_bench ]; then /usr/bin/python3 bench/lldb/real_program.py build-bench; fi
	@if command -v uftrace >/dev/null && [ -f build-bench/lldb_plugin/libgroutines_lldb.so ]; then /usr/bin/python3 bench/profile_vs_uftrace.py build-bench; fi

clean:
	@rm -rf $(BUILD_DIR) build-bench
