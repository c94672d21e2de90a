#!/bin/sh
# Runs every built libFuzzer harness BUILD_DIR/fuzz/fuzz_* for SECONDS each, seeded from
# tests/fuzz/corpus/<name>/ (name = harness without "fuzz_"), and fails on the first crash.
# New inputs go to a scratch copy of the corpus, so the checked-in seeds stay small.
# Usage: tests/fuzz/run.sh BUILD_DIR SECONDS
# With FUZZ_RUNS=N set, each harness instead runs exactly N inputs from a fixed seed (-seed=1),
# for a verdict that does not depend on how fast the machine happens to be.
# Ends with a table per harness: executions, seconds, coverage (libFuzzer's cov: = edges, ft: =
# features, from its last status line), corpus units, verdict.
set -u
BUILD=${1:?usage: run.sh BUILD_DIR SECONDS}
SECONDS_EACH=${2:?usage: run.sh BUILD_DIR SECONDS}
HERE=$(cd "$(dirname "$0")" && pwd)
ARTIFACTS="$BUILD/fuzz-artifacts"
mkdir -p "$ARTIFACTS"
found=0
failed=0
table=""
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
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
  [ -n "$execs" ] || execs=$(sed -n 's/^Done \([0-9]*\) runs.*/\1/p' "$log" | tail -n 1)
  secs=$(sed -n 's/^Done [0-9]* runs in \([0-9]*\) second.*/\1/p' "$log" | tail -n 1)
  cov=$(grep -E '^#[0-9]+.*cov: [0-9]+' "$log" | tail -n 1 | sed -n 's/.*cov: \([0-9]*\).*/\1/p')
  ft=$(grep -E '^#[0-9]+.*ft: [0-9]+' "$log" | tail -n 1 | sed -n 's/.*ft: \([0-9]*\).*/\1/p')
  units=$(ls "$work" | wc -l)
  if [ $rc -ne 0 ]; then
    failed=$((failed + 1))
    verdict="CRASH (exit $rc)"
    echo "$name: FAILED (exit $rc) after ${execs:-?} executions; log: $log"
    grep -m 5 -E "ERROR:|SUMMARY:|Test unit written" "$log" | sed 's/^/    /'
  else
    verdict="ok"
    echo "$name: ${execs:-?} executions in ${secs:-?} s, cov ${cov:-?} ft ${ft:-?}, no crash (corpus $units units)"
  fi
  table="$table$(printf '%-20s %12s %6s %7s %7s %8s  %s' "$name" "${execs:-?}" "${secs:-?}" "${cov:-?}" "${ft:-?}" "$units" "$verdict")
"
  rm -rf "$work"
done
if [ $found -eq 0 ]; then
  echo "no fuzz harnesses in $BUILD/fuzz (configure with CC=clang -DLOOKOUT_FUZZ=ON)" >&2
  exit 1
fi
echo
printf '%-20s %12s %6s %7s %7s %8s  %s\n' harness executions s cov ft corpus verdict
printf '%s' "$table"
echo
[ $failed -eq 0 ] || { echo "$failed of $found harnesses crashed" >&2; exit 1; }
if [ -n "${FUZZ_RUNS:-}" ]; then ran="$FUZZ_RUNS inputs"; else ran="${SECONDS_EACH}s"; fi
echo "all $found harnesses ran $ran without a crash"
