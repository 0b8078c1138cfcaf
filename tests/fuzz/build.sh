#!/usr/bin/env bash
# Builds the named targets of the sanitizer trees: fuzz_<x> (libFuzzer) and the test binaries in build-sanitize/ (clang, ASan + UBSan, shared
# with tests/sanitize.sh), fuzz_<x>_32 in build-fuzz32/ (the same with -m32 and the wasm build's 1 GiB memory cap,
# so every size_t is 32 bits wide as in the wasm engine).
set -euo pipefail
cd "$(dirname "$0")/../.."
native=() thirty_two=()  # targets of build-sanitize/ and of build-fuzz32/
for target in "$@"; do
  if [[ $target == *_32 ]]; then thirty_two+=("${target%_32}"); else native+=("$target"); fi
done
flags="-O1 -gline-tables-only"  # besides CMakeLists.txt's sanitizer options; line tables give reports file:line
configure() {  # build dir, extra cmake args...
  local dir=$1; shift
  if [[ ! -f $dir/CMakeCache.txt ]]; then
    CC=clang CXX=clang++ cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=Sanitize -DCMAKE_CXX_FLAGS_SANITIZE="$flags" \
      -DTINYLM_SANITIZE=ON "$@" > /dev/null
  else  # regenerates after a CMakeLists change (a new target is unknown until then); older trees get today's flags
    cmake -S . -B "$dir" -DCMAKE_CXX_FLAGS_SANITIZE="$flags" > /dev/null
  fi
}
if ((${#native[@]})); then
  configure build-sanitize
  cmake --build build-sanitize -j"${TINYLM_JOBS:-2}" --target "${native[@]}" 2>&1 | grep -E 'error|warning: unused' || true
fi
if ((${#thirty_two[@]})); then
  # -march=x86-64-v2: the host's AVX-512 paths are 64-bit-only in xsimd 8.1; the wasm build runs the SSE path too.
  configure build-fuzz32 -DTINYLM_ARCH=x86-64-v2 "-DCMAKE_CXX_FLAGS=-m32 -DTINYLM_MAXIMUM_MEMORY=1073741824" \
    -DCMAKE_EXE_LINKER_FLAGS=-m32
  cmake --build build-fuzz32 -j"${TINYLM_JOBS:-2}" --target "${thirty_two[@]}" 2>&1 | grep -E 'error' || true
fi
for target in "$@"; do
  if [[ $target == *_32 ]]; then binary=build-fuzz32/fuzz/${target%_32}
  elif [[ $target == fuzz_* ]]; then binary=build-sanitize/fuzz/$target
  else binary=build-sanitize/$target; fi
  [[ -x $binary ]] || { echo "fuzz: $binary was not built" >&2; exit 1; }
done
