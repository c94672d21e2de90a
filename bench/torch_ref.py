#!/usr/bin/python3
"""PyTorch peer of lookout-bench: trains/infers models/bench-ref.json's network on the same shapes.

Run with Debian's /usr/bin/python3 (python3-torch 1.13, oneDNN AVX-512 convolutions). Prints one
JSON object per configuration (--json) or a line of text."""
import argparse
import json
import sys
import time

import torch
import torch.nn as nn


def build(spec):
    """The conv/relu/gap/linear subset of our architecture JSON, enough for bench-ref.json."""
    layers, c = [], spec.get("input", {}).get("channels", 3)
    for l in spec["layers"]:
        t = l["type"]
        if t == "conv":
            k = l.get("kernel", 3)
            layers.append(nn.Conv2d(c, l["out"], k, stride=l.get("stride", 1), padding=l.get("pad", k // 2),
                                    bias=l.get("bias", True)))
            c = l["out"]
        elif t == "relu":
            layers.append(nn.ReLU(inplace=True))
        elif t == "bn":
            layers.append(nn.BatchNorm2d(c))
        elif t == "gap":
            layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten()]
        elif t == "linear":
            layers.append(nn.Linear(c, l["out"]))
            c = l["out"]
        else:
            sys.exit(f"torch_ref.py: layer type {t!r} not supported by the peer")
    return nn.Sequential(*layers)


def timed(fn, seconds):
    """(wall seconds, process CPU seconds) per call."""
    fn(); fn()  # warm-up: oneDNN primitive creation, allocator
    n, t0, c0 = 0, time.perf_counter(), time.process_time()
    while time.perf_counter() - t0 < seconds or n < 3:
        fn()
        n += 1
    return (time.perf_counter() - t0) / n, (time.process_time() - c0) / n


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--net", default="models/bench-ref.json")
    ap.add_argument("--size", type=int, default=224)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seconds", type=float, default=2.0)
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    with open(a.net) as f:
        spec = json.load(f)
    model = build(spec)
    x = torch.randn(a.batch, spec.get("input", {}).get("channels", 3), a.size, a.size)
    y = torch.randint(0, 2, (a.batch,))
    opt = torch.optim.SGD(model.parameters(), lr=1e-3, momentum=0.9)
    loss_fn = nn.CrossEntropyLoss()

    def train_step():
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()

    model.train()
    t_train, c_train = timed(train_step, a.seconds)
    model.eval()

    def infer():
        with torch.no_grad():
            model(x)

    t_inf, c_inf = timed(infer, a.seconds)
    out = {"peer": "pytorch", "torch": torch.__version__, "size": a.size, "batch": a.batch,
           "threads": a.threads, "train_img_per_s": a.batch / t_train, "infer_img_per_s": a.batch / t_inf,
           "train_step_ms": 1e3 * t_train,
           # images per CPU-second per thread: comparable on a box shared with other jobs
           "train_img_per_cpu_s": a.batch / (c_train / a.threads), "infer_img_per_cpu_s": a.batch / (c_inf / a.threads)}
    if a.json:
        print(json.dumps(out))
    else:
        print(f"pytorch {a.size}x{a.size} batch {a.batch} threads {a.threads}: "
              f"train {out['train_img_per_s']:.1f} img/s, infer {out['infer_img_per_s']:.1f} img/s")


if __name__ == "__main__":
    main()
