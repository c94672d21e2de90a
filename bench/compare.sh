#!/bin/sh
# compare.sh BUILD_DIR — lookout-bench and PyTorch on the same network and shapes, back to back,
# then the ratios ours/PyTorch. The box may be shared: each configuration runs ours and PyTorch
# alternately ROUNDS times and keeps each side's best, so both see the same background load.
set -eu
BUILD=${1:-build}
ROUNDS=${ROUNDS:-2}
SECONDS_EACH=${SECONDS_EACH:-2}
NET=${NET:-models/bench-ref.json}
BENCH="$BUILD/bench/lookout-bench"
PY=/usr/bin/python3
[ -x "$BENCH" ] || { echo "compare.sh: $BENCH not built (run make first)" >&2; exit 1; }
$PY -c 'import torch' 2>/dev/null || { echo "compare.sh: $PY cannot import torch (apt-get install python3-torch)" >&2; exit 1; }
# A fair allocator for PyTorch (issue 3): no mmap/munmap churn of its activation buffers.
TORCH_ENV="GLIBC_TUNABLES=glibc.malloc.mmap_threshold=33554432:glibc.malloc.trim_threshold=4294967295:glibc.malloc.top_pad=268435456"
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
for size in ${SIZES:-128 224}; do
  for threads in ${THREADS:-1 2}; do
    r=1
    while [ "$r" -le "$ROUNDS" ]; do
      "$BENCH" --net "$NET" --size "$size" --batch 32 --threads "$threads" --seconds "$SECONDS_EACH" --json \
        >> "$TMP/ours-$size-$threads.jsonl"
      env $TORCH_ENV OMP_NUM_THREADS="$threads" $PY bench/torch_ref.py --net "$NET" --size "$size" --batch 32 \
        --threads "$threads" --seconds "$SECONDS_EACH" --json >> "$TMP/torch-$size-$threads.jsonl"
      r=$((r + 1))
    done
  done
done
$PY - "$TMP" <<'PYEOF'
import glob, json, os, sys
d = sys.argv[1]
print("images/s (wall clock, best of the rounds):")
print(f"{'size':>5} {'thr':>3} | {'ours train':>10} {'torch train':>11} {'ratio':>6} | {'ours infer':>10} {'torch infer':>11} {'ratio':>6}")
cpu_rows = []
for f in sorted(glob.glob(os.path.join(d, "ours-*.jsonl")), key=lambda p: [int(x) for x in p[:-6].split("-")[-2:]]):
    size, thr = f[:-6].split("-")[-2:]
    ours = [json.loads(l) for l in open(f)]
    peer = [json.loads(l) for l in open(os.path.join(d, f"torch-{size}-{thr}.jsonl"))]
    ot = max(o["train_img_per_s"] for o in ours); oi = max(o["infer_img_per_s"] for o in ours)
    pt = max(p["train_img_per_s"] for p in peer); pi = max(p["infer_img_per_s"] for p in peer)
    print(f"{size:>5} {thr:>3} | {ot:10.1f} {pt:11.1f} {ot/pt:6.2f} | {oi:10.1f} {pi:11.1f} {oi/pi:6.2f}")
    oc = max(o["train_img_per_cpu_s"] for o in ours); pc = max(p["train_img_per_cpu_s"] for p in peer)
    oic = max(o["infer_img_per_cpu_s"] for o in ours); pic = max(p["infer_img_per_cpu_s"] for p in peer)
    cpu_rows.append(f"{size:>5} {thr:>3} | {oc:10.1f} {pc:11.1f} {oc/pc:6.2f} | {oic:10.1f} {pic:11.1f} {oic/pic:6.2f}")
print("\nimages per CPU-second per thread (what each side gets done with the CPU it was given;")
print("the fair figure when other jobs share the box):")
print(f"{'size':>5} {'thr':>3} | {'ours train':>10} {'torch train':>11} {'ratio':>6} | {'ours infer':>10} {'torch infer':>11} {'ratio':>6}")
for r in cpu_rows:
    print(r)
best = max((json.loads(l) for l in open(os.path.join(d, "ours-224-2.jsonl"))), key=lambda o: o["train_img_per_s"]) \
    if os.path.exists(os.path.join(d, "ours-224-2.jsonl")) else None
if best:
    print(f"\nours 224x224, 2 threads: path {best['path']}, FMA peak {best['peak_gflops']:.1f} GFLOP/s")
    for l in best["layers"]:
        print(f"  {l['name']:<8} {l['direction']:<12} {l['gflops']:7.1f} GFLOP/s {100*l['fraction_of_peak']:5.1f}% of peak  (sgemm {l['sgemm_gflops']:.1f})")
    tot = sum(b["fwd"] + b["bwd"] for b in best["breakdown_ms"])
    print("  step breakdown: " + ", ".join(f"{b['layer']} {b['fwd']+b['bwd']:.1f} ms" for b in best["breakdown_ms"] if b["fwd"] + b["bwd"] > 0.05 * tot / 10))
PYEOF
