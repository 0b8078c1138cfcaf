#!/usr/bin/env bash
# npm test: every stage below in order, stopping at the first that fails with that stage's exit code. The stages'
# own output is unchanged; at the end (or after the failing stage) one table gives each stage's wall time and CPU
# time (user + system of the stage and everything it ran), so a slow stage shows whether it computed or waited.
set -uo pipefail
cd "$(dirname "$0")/.."

stages=(
  "bash scripts/setup.sh"
  "npm run build:native"
  "ctest --test-dir build --output-on-failure -j2"
  "npm run test:sanitize"
  "npm run build:wasm"
  "npm run build:lib"
  "npm run test:js"
  "npm run test:bundlers"
  "npm run build:site"
  "npm run test:e2e"
)

timings=$(mktemp)
trap 'rm -f "$timings"' EXIT
exec 3>&2  # the stages' stderr; the `time` keyword's report goes to $timings
TIMEFORMAT='%R %U %S'
report=()
failed=0
started=$SECONDS
for stage in "${stages[@]}"; do
  { time eval "$stage" 2>&3; } 2>"$timings"
  status=$?
  read -r wall user system <"$timings"
  report+=("$(awk -v stage="$stage" -v wall="$wall" -v user="$user" -v sys="$system" \
    'BEGIN { printf "  %-50s %8.1f s %8.1f s", stage, wall, user + sys }')")
  if ((status != 0)); then
    failed=$status
    report+=("  FAILED: '$stage' exited with $status")
    break
  fi
done

printf '\n%-52s %10s %10s\n' 'npm test stages' wall CPU
printf '%s\n' "${report[@]}"
printf '  %-50s %8d s\n' total $((SECONDS - started))
exit "$failed"
