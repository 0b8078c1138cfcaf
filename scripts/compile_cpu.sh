#!/usr/bin/env bash
# Where a build's CPU goes: a compiler and linker launcher (GNU time, Debian's `time` package) that appends one line
# per command it runs — user and system CPU seconds, wall seconds, the file it writes — to $TINYLM_COMPILE_CPU_LOG
# (default /tmp/tinylm-compile-cpu.log); `--summary LOG` adds them up per target. CPU seconds hold up on a loaded
# machine where wall times do not. For a tree (build-wasm too: there also CMAKE_C_COMPILER_LAUNCHER):
#   cmake -S . -B build -DCMAKE_CXX_COMPILER_LAUNCHER=$PWD/scripts/compile_cpu.sh \
#         -DCMAKE_CXX_LINKER_LAUNCHER=$PWD/scripts/compile_cpu.sh
#   cmake --build build -j2 && bash scripts/compile_cpu.sh --summary /tmp/tinylm-compile-cpu.log
set -euo pipefail
if [[ ${1:-} == --summary ]]; then
  # Objects are named CMakeFiles/<target>.dir/...; anything else is a link, named by what it writes.
  awk '{ target = $4
         if (match(target, /CMakeFiles\/[^\/]+\.dir/)) target = substr(target, RSTART + 11, RLENGTH - 15)
         else target = "link " target
         cpu[target] += $1 + $2; count[target]++; total += $1 + $2 }
       END { for (t in cpu) printf "%8.1f s %4d  %s\n", cpu[t], count[t], t
             printf "%8.1f s       total\n", total }' "$2" | sort -rn
  exit
fi
output='' previous=''
for argument in "$@"; do
  [[ $previous == -o ]] && output=$argument
  previous=$argument
done
exec /usr/bin/time -f "%U %S %e $output" -a -o "${TINYLM_COMPILE_CPU_LOG:-/tmp/tinylm-compile-cpu.log}" "$@"
