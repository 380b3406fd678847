#!/usr/bin/env bash
# demo.sh BUILD_DIR: the demo of `make demo`.
#
# Runs the demo program tests/targets/kvparse (a key=value parser built -O2 without debug
# info, with a range bug and an unchecked allocation) under `groutines run` with two stock
# groutines: a contract on parse_port's result, and a fault making the 7th kv_strdup return
# NULL. The program crashes on that NULL, as it would in the field: the runner reports the
# contract failure with its backtrace, the injected fault, the crash, and a trace file.
# Exit code 3 (the target crashed) is the expected outcome here; anything else is a failure.
set -u
build=${1:-build}
here=$(cd "$(dirname "$0")/.." && pwd)
echo "== groutines demo: scripts/groutines run ... -- $build/tests/targets/kvparse" >&2
"$here/groutines/stock/demo/run-demo.sh" "$build"
status=$?
if ((status == 3)); then
  echo "== demo done: the contract caught parse_port's bug, the injected fault crashed the program (exit code 3, as expected)" >&2
  exit 0
fi
echo "== demo FAILED: groutines run exited with $status, expected 3" >&2
exit 1
