#!/usr/bin/env bash
# install-deps.sh installs the Debian 12 packages groutines needs, only those missing.
# Run as root (CI) or with sudo available. Prints nothing when all are present.
set -euo pipefail

packages=(
  build-essential cmake
  lldb-19 liblldb-19-dev python3-lldb-19
  libboost-context-dev pybind11-dev catch2 python3-dev python3-pytest
  libbenchmark-dev valgrind nlohmann-json3-dev
  libzydis-dev libdw-dev pkg-config
  gdb gdbserver
  uftrace
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
((${#missing[@]})) || exit 0

echo "install-deps: installing ${missing[*]}" >&2
sudo=()
((EUID == 0)) || sudo=(sudo)
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -q
"${sudo[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
