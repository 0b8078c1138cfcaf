#!/usr/bin/env bash
# Builds and runs the libFuzzer targets (clang 14, ASan + UBSan):
#   fuzz_model_file        bytes → model, native 64-bit sizes
#   fuzz_model_file_32     the same, built -m32 with the wasm build's 1 GiB cap: size_t has wasm's 32 bits
#   fuzz_tokenizer_json    the tokenizer JSON readers
#   fuzz_hf_tokenizer      Hugging Face tokenizer.json (+ tokenizer_config.json after "\0\0")
#   fuzz_safetensors_header  the safetensors container parser
#
#   tests/fuzz/run.sh --regression [--runs N]   each target runs its committed seeds (tests/fuzz/corpus/<name>/)
#                                              plus N mutations (default 2000); new inputs go to a temp dir
#   tests/fuzz/run.sh --seconds S | --runs N    a campaign: each target for S seconds or N executions, growing
#                                              build-sanitize/fuzz-corpus/<name>/; crashes land in
#                                              build-sanitize/fuzz-artifacts/ (minimise them into seeds)
#   [target ...]                               only these targets
# Each target's last status line (executions, cov, ft) is printed; a finding exits non-zero.
set -euo pipefail
cd "$(dirname "$0")/../.."

mode=campaign runs="" seconds="" targets=()
while (($#)); do
  case $1 in
    --regression) mode=regression ;;
    --runs) runs=$2; shift ;;
    --seconds) seconds=$2; shift ;;
    -h|--help) sed -n '2,15p' "$0"; exit 0 ;;
    *) targets+=("$1") ;;
  esac
  shift
done
if [[ $mode == regression && -z $runs ]]; then runs=2000; fi
if [[ $mode == campaign && -z $runs && -z $seconds ]]; then
  echo "fuzz: say how long: --seconds S or --runs N (or --regression)" >&2
  exit 2
fi
if ((${#targets[@]} == 0)); then
  targets=(fuzz_model_file fuzz_model_file_32 fuzz_tokenizer_json fuzz_hf_tokenizer fuzz_safetensors_header)
fi

bash tests/fuzz/build.sh "${targets[@]}"

failed=0
for target in "${targets[@]}"; do
  name=${target#fuzz_}
  name=${name%_32}
  binary=build-sanitize/fuzz/$target
  [[ $target == *_32 ]] && binary=build-fuzz32/fuzz/fuzz_${name}
  seeds=tests/fuzz/corpus/$name
  # Memory: a model no bigger than the input may allocate a bounded multiple of it (KV caches); 512 MiB for one
  # allocation catches a size taken from a config before the tensors were checked.
  flags=(-dict="tests/fuzz/$name.dict" -malloc_limit_mb=512 -rss_limit_mb=2560 -max_len=65536 -timeout=20
         -print_final_stats=1)
  if [[ $mode == regression ]]; then
    scratch=$(mktemp -d)
    flags+=(-seed=1 -runs="$runs" -artifact_prefix="$scratch/" "$scratch" "$seeds")  # the same mutations every run
  else
    mkdir -p "build-sanitize/fuzz-corpus/$target" build-sanitize/fuzz-artifacts
    [[ -n $runs ]] && flags+=(-runs="$runs")
    [[ -n $seconds ]] && flags+=(-max_total_time="$seconds")
    flags+=(-artifact_prefix="build-sanitize/fuzz-artifacts/$target-" "build-sanitize/fuzz-corpus/$target" "$seeds")
  fi
  log=$(mktemp)
  if "$binary" "${flags[@]}" > "$log" 2>&1; then
    status=$(grep -E '^#[0-9]+' "$log" | tail -1 || true)
    executions=$(grep -E 'stat::number_of_executed_units' "$log" | awk '{print $2}')
    echo "fuzz: $target ok: $executions executions; last status: $status"
  else
    failed=1
    echo "fuzz: $target FAILED (log below; the input is saved as the artifact it names)" >&2
    tail -60 "$log" >&2
  fi
  rm -f "$log"
  [[ $mode == regression ]] && rm -rf "$scratch"
done
exit $failed
