#!/bin/sh
# ab.sh BUILD_A BUILD_B — two builds' lookout-bench side by side: A and B alternate ROUNDS times per
# size, so both see the same background load, and the ratios B/A of the median and of the best
# are printed (training images/s and inference images/s on compact-fcn, batch 16, 2 threads).
set -eu
A=${1:?usage: ab.sh BUILD_A BUILD_B}
B=${2:?usage: ab.sh BUILD_A BUILD_B}
ROUNDS=${ROUNDS:-5}
NET=${NET:-models/compact-fcn.json}
for b in "$A" "$B"; do
  [ -x "$b/bench/lookout-bench" ] || { echo "ab.sh: $b/bench/lookout-bench not built" >&2; exit 1; }
done
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
for size in ${SIZES:-224 160}; do
  r=1
  while [ "$r" -le "$ROUNDS" ]; do
    for side in A B; do
      if [ "$side" = A ]; then dir=$A; else dir=$B; fi
      "$dir/bench/lookout-bench" --net "$NET" --size "$size" --batch 16 --threads 2 --seconds "${SECONDS_EACH:-2}" \
        --json >> "$TMP/$side-$size.jsonl"
    done
    r=$((r + 1))
  done
done
/usr/bin/python3 - "$TMP" "$A" "$B" <<'PYEOF'
import json, os, statistics, sys
d, a, b = sys.argv[1:4]
print(f"A = {a}, B = {b}; images/s, median (best) of the rounds")
print(f"{'size':>5} | {'A train':>14} {'B train':>14} {'B/A':>11} | {'A infer':>14} {'B infer':>14} {'B/A':>11}")
for f in sorted(os.listdir(d)):
    if not f.startswith("A-"): continue
    size = f[2:-6]
    ra = [json.loads(l) for l in open(os.path.join(d, f))]
    rb = [json.loads(l) for l in open(os.path.join(d, "B-" + f[2:]))]
    row = []
    for key in ("train_img_per_s", "infer_img_per_s"):
        xa = [r[key] for r in ra]; xb = [r[key] for r in rb]
        ma, mb = statistics.median(xa), statistics.median(xb)
        row.append(f"{ma:7.1f} ({max(xa):5.1f}) {mb:7.1f} ({max(xb):5.1f}) {mb/ma:5.2f} ({max(xb)/max(xa):4.2f})")
    print(f"{size:>5} | " + " | ".join(row))
PYEOF
