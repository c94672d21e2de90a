#!/bin/sh
# Runs every built libFuzzer harness BUILD_DIR/fuzz/fuzz_* for SECONDS each, seeded from
# tests/fuzz/corpus/<name>/ (name = harness without "fuzz_"), and fails on the first crash.
# New inputs go to a scratch copy of the corpus, so the checked-in seeds stay small.
# Usage: tests/fuzz/run.sh BUILD_DIR SECONDS
# With FUZZ_RUNS=N set, each harness instead runs exactly N inputs from a fixed seed (-seed=1):
# CI uses that so its verdict does not depend on how fast the machine happens to be; open-ended
# exploration (`make fuzz`) stays time-bounded and random.
set -u
BUILD=${1:?usage: run.sh BUILD_DIR SECONDS}
SECONDS_EACH=${2:?usage: run.sh BUILD_DIR SECONDS}
HERE=$(cd "$(dirname "$0")" && pwd)
ARTIFACTS="$BUILD/fuzz-artifacts"
mkdir -p "$ARTIFACTS"
found=0
failed=0
for h in "$BUILD"/fuzz/fuzz_*; do
  [ -x "$h" ] && [ -f "$h" ] || continue
  found=$((found + 1))
  name=$(basename "$h")
  short=${name#fuzz_}
  work=$(mktemp -d "${TMPDIR:-/tmp}/lookout-fuzz-$short.XXXXXX")
  seeds="$HERE/corpus/$short"
  [ -d "$seeds" ] || seeds=""
  log="$ARTIFACTS/$name.log"
  # -rss_limit_mb: images up to 4096x4096 decode to 64 MB, fine; anything near 2 GB is a bug.
  if [ -n "${FUZZ_RUNS:-}" ]; then budget="-runs=$FUZZ_RUNS -seed=1"; else budget="-max_total_time=$SECONDS_EACH"; fi
  "$h" "$work" $seeds $budget -rss_limit_mb=2048 -timeout=25 \
       -artifact_prefix="$ARTIFACTS/$name-" -print_final_stats=1 >"$log" 2>&1
  rc=$?
  runs=$(sed -n 's/^Done \([0-9]*\) runs in \([0-9]*\) second.*/\1 executions in \2 s/p' "$log" | tail -n 1)
  [ -n "$runs" ] || runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)" executions"
  if [ $rc -ne 0 ]; then
    failed=$((failed + 1))
    echo "$name: FAILED (exit $rc) after $runs; log: $log"
    grep -m 5 -E "ERROR:|SUMMARY:|Test unit written" "$log" | sed 's/^/    /'
  else
    echo "$name: $runs, no crash (corpus $(ls "$work" | wc -l) units)"
  fi
  rm -rf "$work"
done
if [ $found -eq 0 ]; then
  echo "no fuzz harnesses in $BUILD/fuzz (configure with CC=clang -DLOOKOUT_FUZZ=ON)" >&2
  exit 1
fi
[ $failed -eq 0 ] || { echo "$failed of $found harnesses crashed" >&2; exit 1; }
if [ -n "${FUZZ_RUNS:-}" ]; then ran="$FUZZ_RUNS inputs"; else ran="${SECONDS_EACH}s"; fi
echo "all $found harnesses ran $ran without a crash"
