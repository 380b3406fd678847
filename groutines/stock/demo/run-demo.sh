#!/bin/sh
# run-demo.sh [BUILD_DIR]: `groutines run` over the demo program kvparse, with the stock
# contract groutine (kvparse.contract: parse_port's result must be a port) and the stock
# faults groutine making the 7th kv_strdup fail (the program does not check: it crashes).
# Exit code 3 (the target crashed) is what this demo shows; it writes a trace to open.
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
build=$(cd "${1:-$root/build}" && pwd)
GROUTINES_BUILD_DIR=$build exec "$root/scripts/groutines" run \
  --trace "$build/kvparse-trace.json" \
  --set "contract.rules=@$here/kvparse.contract" \
  --set faults.function=kv_strdup --set faults.nth=7 \
  stock:contract stock:faults -- "$build/tests/targets/kvparse"
