# Sourced by the benches whose peer is PyTorch: the peer a user would pick, PyTorch on OpenBLAS (Debian's
# python3-torch otherwise uses the reference libblas.so.3), one thread unless the caller sets OPENBLAS_NUM_THREADS.
export LD_LIBRARY_PATH=/usr/lib/x86_64-linux-gnu/openblas-pthread${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
export OPENBLAS_NUM_THREADS=${OPENBLAS_NUM_THREADS:-1} OMP_NUM_THREADS=${OMP_NUM_THREADS:-1} MKL_NUM_THREADS=1
# OpenBLAS 0.3.21 (bookworm) does not recognise some newer CPUs, virtual ones especially, and falls back to its SSE3
# "Prescott" kernels: measured 32 GFLOP/s at 512³ instead of 150 on an AVX-512 VM. Give the peer the best kernel
# set the CPU's flags allow, unless the caller chose one.
if [[ -z "${OPENBLAS_CORETYPE:-}" ]]; then
  flags=$(grep -m1 '^flags' /proc/cpuinfo || true)
  if [[ " $flags " == *" avx512f "* && " $flags " == *" avx512bw "* && " $flags " == *" avx512vl "* ]]; then
    export OPENBLAS_CORETYPE=SkylakeX
  elif [[ " $flags " == *" avx2 "* && " $flags " == *" fma "* ]]; then
    export OPENBLAS_CORETYPE=Haswell
  fi
fi
