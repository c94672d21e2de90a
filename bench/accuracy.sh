#!/bin/sh
# Issue 5's accuracy table: trains the default recipe on each shared dataset with the fixed
# protocol (bench/accuracy_protocol.c) on 2 threads and prints test F1, precision, recall,
# ROC AUC, AP and training time. Usage: bench/accuracy.sh BUILD_DIR [accuracy options]
set -e
build=${1:-build}
[ $# -gt 0 ] && shift
# the wait policy the lookout binary gives its training worker (engine/main.c)
export GOMP_SPINCOUNT=${GOMP_SPINCOUNT:-10000}
exec "$build/bench/accuracy" --threads 2 "$@"
