#!/usr/bin/env bash
# Runs one test file again and again, to catch what fails once in a while (a lost abort, a race):
#   scripts/repeat-tests.sh [test file] [count]      (default: test/integration/projector.test.ts, 20)
#   npm run test:repeat -- test/integration/ha.test.ts 5
# Stops at the first failing run, prints its number and keeps its output; every run is bounded by
# node's --test-timeout and, should the process outlive that, by `timeout`.
set -uo pipefail
cd "$(dirname "$0")/.."

file=${1:-test/integration/projector.test.ts}
count=${2:-20}
test_timeout_ms=${JZSE_TEST_TIMEOUT_MS:-300000}
run_bound_s=$(( test_timeout_ms / 1000 + 60 ))
[ -f "$file" ] || { echo "repeat-tests: no such test file: $file" >&2; exit 2; }
[[ "$count" =~ ^[1-9][0-9]*$ ]] || { echo "repeat-tests: count must be a positive integer, not '$count'" >&2; exit 2; }

logs=$(mktemp -d "${TMPDIR:-/tmp}/jzse-repeat-XXXXXX")
started=$SECONDS
for ((run = 1; run <= count; run++)); do
  log="$logs/run-$run.log"
  run_started=$SECONDS
  timeout --kill-after=10 "$run_bound_s" node --test --test-timeout="$test_timeout_ms" --import tsx "$file" >"$log" 2>&1
  code=$?
  took=$(( SECONDS - run_started ))
  if [ "$code" -ne 0 ]; then
    [ "$code" -eq 124 ] && echo "repeat-tests: run $run of $count outlived ${run_bound_s} s and was killed" >&2
    echo "repeat-tests: run $run of $count FAILED (exit $code, ${took} s) after $((run - 1)) passing; output: $log" >&2
    grep -E '^# (tests|pass|fail|cancelled)|not ok|timed out|Error' "$log" | head -40 >&2
    exit 1
  fi
  echo "repeat-tests: run $run of $count passed (${took} s)"
  rm -f "$log"
done
rmdir "$logs" 2>/dev/null || true
echo "repeat-tests: $count of $count runs of $file passed in $(( SECONDS - started )) s"
