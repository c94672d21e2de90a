#!/usr/bin/python3
"""Validates, field by field, the files write_fixture wrote: EvaluationResult against the schema
Lookout for Vision documented (plus our LookoutExtensions), EvaluationManifest lines, and the HTML
report (well-formed, self-contained). Metrics are recomputed from scores.tsv with scikit-learn.
Usage: validate_files.py DIR [--real-image]"""
import base64
import glob
import html.parser
import json
import os
import re
import sys
import warnings

import numpy as np
from sklearn.metrics import (average_precision_score, f1_score, precision_score, recall_score,
                             roc_auc_score)

warnings.filterwarnings("ignore")
TS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}$")


def fail(msg):
    raise SystemExit("validate_files: " + msg)


def expect(cond, msg):
    if not cond:
        fail(msg)


def num(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def check_result(path, scores, labels, threshold, arn, n_train, n_test, pixel_classes=None, single=False):
    r = json.load(open(path))
    name = os.path.basename(path)
    if pixel_classes is None:
        expect("CrossValidation" not in r["LookoutExtensions"], f"{name}: no folds were given")
    expect(set(r) == {"Version", "EvaluationDetails", "AggregatedEvaluationResults", "LookoutExtensions"},
           f"{name}: top-level keys {sorted(r)}")
    expect(r["Version"] == 1, f"{name}: Version {r['Version']}")
    d = r["EvaluationDetails"]
    expect(set(d) == {"ModelArn", "EvaluationEndTimestamp", "NumberOfTrainingImages", "NumberOfTestingImages"},
           f"{name}: EvaluationDetails keys {sorted(d)}")
    expect(d["ModelArn"] == arn, f"{name}: ModelArn {d['ModelArn']}")
    expect(TS.match(d["EvaluationEndTimestamp"]), f"{name}: EvaluationEndTimestamp {d['EvaluationEndTimestamp']}")
    expect(d["EvaluationEndTimestamp"] == "2026-11-18T11:06:40.000000", f"{name}: timestamp of epoch 1795000000")
    expect(d["NumberOfTrainingImages"] == n_train and d["NumberOfTestingImages"] == n_test, f"{name}: image counts")
    agg = r["AggregatedEvaluationResults"]
    expect(set(agg) == {"Metrics"}, f"{name}: AggregatedEvaluationResults keys {sorted(agg)}")
    m = agg["Metrics"]
    want = {"ROCAUC", "AveragePrecision", "Precision", "Recall", "F1Score"}
    if pixel_classes is not None:
        want.add("PixelAnomalyClassMetrics")
    expect(set(m) == want, f"{name}: Metrics keys {sorted(m)}")
    pred = (scores >= threshold).astype(int)
    for key, ref in (("Precision", precision_score(labels, pred, zero_division=0)),
                     ("Recall", recall_score(labels, pred, zero_division=0)),
                     ("F1Score", f1_score(labels, pred, zero_division=0))):
        expect(num(m[key]) and abs(m[key] - ref) < 1e-9, f"{name}: {key} {m[key]} vs scikit-learn {ref}")
    if single:
        expect(m["ROCAUC"] is None and m["AveragePrecision"] is None, f"{name}: single class must give null AUC/AP")
    else:
        expect(abs(m["ROCAUC"] - roc_auc_score(labels, scores)) < 1e-9, f"{name}: ROCAUC")
        expect(abs(m["AveragePrecision"] - average_precision_score(labels, scores)) < 1e-9, f"{name}: AP")
    x = r["LookoutExtensions"]
    expect(abs(x["Threshold"] - threshold) < 1e-6, f"{name}: Threshold")
    cm = x["ConfusionMatrix"]
    tp = int(((pred == 1) & (labels == 1)).sum()); fp = int(((pred == 1) & (labels == 0)).sum())
    fn = int(((pred == 0) & (labels == 1)).sum()); tn = int(((pred == 0) & (labels == 0)).sum())
    expect(cm == {"TruePositives": tp, "FalsePositives": fp, "TrueNegatives": tn, "FalseNegatives": fn},
           f"{name}: ConfusionMatrix {cm}")
    expect(x["NumberOfTestAnomalies"] == int(labels.sum()) and x["NumberOfTestNormals"] == int((1 - labels).sum()),
           f"{name}: class counts")
    expect(isinstance(x["Notes"], list) and all(isinstance(s, str) for s in x["Notes"]), f"{name}: Notes")
    if single:
        expect("BootstrapConfidenceIntervals" not in x, f"{name}: no bootstrap was asked for")
        expect(any("precision reported as 0" in s for s in x["Notes"]), f"{name}: note on undefined precision")
        expect(any("ROC AUC and average precision undefined" in s for s in x["Notes"]), f"{name}: note on AUC")
    else:
        b = x["BootstrapConfidenceIntervals"]
        expect(b["Resamples"] == 1000 and b["Seed"] == "7" and b["ConfidenceLevel"] == 0.95, f"{name}: bootstrap {b}")
        expect("stratified percentile" in b["Method"], f"{name}: bootstrap method")
        for key, point in (("Precision", m["Precision"]), ("Recall", m["Recall"]), ("F1Score", m["F1Score"])):
            iv = b[key]
            expect(set(iv) == {"Lower", "Upper"} and 0 <= iv["Lower"] <= point <= iv["Upper"] <= 1,
                   f"{name}: {key} interval {iv} around {point}")
    if pixel_classes is not None:
        arr = m["PixelAnomalyClassMetrics"]
        expect([c["ClassName"] for c in arr] == pixel_classes, f"{name}: classes {[c.get('ClassName') for c in arr]}")
        for c in arr:
            expect(set(c) == {"Precision", "Recall", "F1Score", "AIOU", "ClassName"}, f"{name}: pixel keys {sorted(c)}")
            expect(all(num(c[k]) and 0 <= c[k] <= 1 for k in ("Precision", "Recall", "F1Score", "AIOU")),
                   f"{name}: pixel values {c}")
        cv = x["CrossValidation"]
        expect(cv["Folds"] == 3 and abs(cv["Precision"]["Mean"] - 0.9) < 1e-9
               and abs(cv["Precision"]["StandardDeviation"] - 0.1) < 1e-9, f"{name}: CrossValidation {cv}")
        expect(cv["Recall"] == {"Mean": 0.5, "StandardDeviation": 0} and abs(cv["ROCAUC"]["Mean"] - 0.85) < 1e-9,
               f"{name}: CrossValidation {cv}")
        expect(cv["AveragePrecision"] == {"Mean": None, "StandardDeviation": None}, f"{name}: undefined AP over folds")
        counts = {c["ClassName"]: c for c in x["PixelAnomalyClassCounts"]}
        expect(x["NumberOfTestImagesWithMasks"] == 23, f"{name}: images with masks")
        for c in arr:
            q = counts[c["ClassName"]]
            tpp, fpp, fnp = q["TruePositivePixels"], q["FalsePositivePixels"], q["FalseNegativePixels"]
            expect(abs(c["Precision"] - tpp / (tpp + fpp)) < 1e-9 and abs(c["Recall"] - tpp / (tpp + fnp)) < 1e-9,
                   f"{name}: pixel precision/recall disagree with the counts of {c['ClassName']}")
    return r


def check_manifest(path, scores, labels, threshold, project, version, arn, job, seg=False):
    name = os.path.basename(path)
    lines = open(path).read().split("\n")
    expect(lines[-1] == "", f"{name}: must end with a newline")
    lines = lines[:-1]
    expect(len(lines) == len(scores), f"{name}: {len(lines)} lines for {len(scores)} test images")
    for i, line in enumerate(lines):
        o = json.loads(line)
        expect(o["source-ref"] == f"s3://bucket/parts/img{i:02d}.png", f"{name} line {i}: source-ref kept")
        expect(o["anomaly-label"] == labels[i], f"{name} line {i}: ground truth kept")
        gt = o["anomaly-label-metadata"]
        expect(gt["human-annotated"] == "yes" and gt["job-name"] == "labeling-job/parts", f"{name} line {i}: gt metadata kept")
        want_pred = int(scores[i] >= threshold)
        expect(o["anomaly-label-detected"] == want_pred, f"{name} line {i}: anomaly-label-detected")
        md = o["anomaly-label-detected-metadata"]
        expect(set(md) == {"class-name", "confidence", "type", "human-annotated", "creation-date", "job-name",
                           "model-arn", "project-name", "model-version"}, f"{name} line {i}: metadata keys {sorted(md)}")
        expect(md["class-name"] == ("anomaly" if want_pred else "normal"), f"{name} line {i}: class-name")
        expect(num(md["confidence"]) and 0 <= md["confidence"] <= 1, f"{name} line {i}: confidence")
        expect(md["type"] == "groundtruth/image-classification" and md["human-annotated"] == "no",
               f"{name} line {i}: type/human-annotated")
        expect(TS.match(md["creation-date"]), f"{name} line {i}: creation-date {md['creation-date']}")
        expect(md["job-name"] == job and md["model-arn"] == arn and md["project-name"] == project
               and md["model-version"] == version, f"{name} line {i}: model keys {md}")
        if seg:
            expect(o["anomaly-mask-ref-detected"] == f"s3://bucket/out/masks/img{i:02d}.png", f"{name} line {i}: mask ref")
            mm = o["anomaly-mask-ref-detected-metadata"]
            expect(mm["type"] == "groundtruth/semantic-segmentation" and mm["human-annotated"] == "no",
                   f"{name} line {i}: mask metadata")
            expect(mm["internal-color-map"] == {"0": {"class-name": "BACKGROUND", "hex-color": "#ffffff"},
                                                "1": {"class-name": "scratch", "hex-color": "#2ca02c"},
                                                "2": {"class-name": "dent", "hex-color": "#1f77b4"}},
                   f"{name} line {i}: color map {mm['internal-color-map']}")
            expect(mm["model-arn"] == arn and mm["job-name"] == job, f"{name} line {i}: mask metadata model keys")
        else:
            expect("anomaly-mask-ref-detected" not in o, f"{name} line {i}: no mask for a classification model")


class Html(html.parser.HTMLParser):
    VOID = {"meta", "br", "img", "hr", "input", "link", "circle", "line", "rect", "polyline", "path"}

    def __init__(self):
        super().__init__()
        self.stack, self.errors, self.imgs, self.svgs = [], [], [], 0

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "img":
            self.imgs.append(a.get("src", ""))
        if tag == "svg":
            self.svgs += 1
        for k, v in attrs:
            if k in ("src", "href") and v and not v.startswith("data:"):
                self.errors.append(f"external {k}: {v[:60]}")
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        if tag not in self.VOID:
            self.stack.pop()

    def handle_endtag(self, tag):
        if tag in self.VOID:
            return
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"</{tag}> closes <{self.stack[-1] if self.stack else 'nothing'}>")
        else:
            self.stack.pop()


def check_report(path, n_misclassified, n_unreadable, real_image, pixel=False):
    name = os.path.basename(path)
    text = open(path, encoding="utf-8").read()
    expect(text.startswith("<!DOCTYPE html>"), f"{name}: doctype")
    expect(not re.search(r"https?://", text), f"{name}: names a URL (must be self-contained)")
    expect("<script" not in text, f"{name}: has a script")
    p = Html()
    p.feed(text)
    p.close()
    expect(not p.errors, f"{name}: {p.errors[:5]}")
    expect(not p.stack, f"{name}: unclosed tags {p.stack}")
    expect(p.svgs == 3, f"{name}: {p.svgs} SVG charts, want ROC, PR and histogram")
    for want in ("ROC curve", "Precision-recall", "Confusion matrix", "threshold 0.5", "95 % interval",
                 "Misclassified test images (%d)" % n_misclassified):
        expect(want in text, f"{name}: missing '{want}'")
    expect(len(p.imgs) == n_misclassified - n_unreadable, f"{name}: {len(p.imgs)} thumbnails")
    sizes = []
    for src in p.imgs:
        expect(src.startswith("data:image/png;base64,"), f"{name}: thumbnail not an inline PNG")
        png = base64.b64decode(src.split(",", 1)[1], validate=True)
        expect(png[:8] == b"\x89PNG\r\n\x1a\n", f"{name}: thumbnail is not a PNG")
        w, h = int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")
        expect(0 < w <= 200 and 0 < h <= 200, f"{name}: thumbnail size {w}x{h}")
        sizes.append((w, h))
    if real_image:
        # The 576x768 photo is scaled so its longest side is 200.
        expect((150, 200) in sizes, f"{name}: no 150x200 thumbnail of the real photo among {sizes}")
    expect(text.count("missing.png: not a readable image") == n_unreadable, f"{name}: unreadable image note")
    expect("s3://bucket/parts/img04.png" in text, f"{name}: captions name the source-ref")
    if pixel:
        expect("Cross-validation (3 folds)" in text, f"{name}: folds table")
        expect("Per defect label" in text and "scratch" in text and "dent" in text, f"{name}: pixel table")


def main():
    d = sys.argv[1]
    rows = [l.split("\t") for l in open(os.path.join(d, "scores.tsv")).read().split("\n") if l]
    scores = np.array([float(r[0]) for r in rows], dtype=np.float32)
    labels = np.array([int(r[1]) for r in rows])
    verdicts = np.array([int(r[2]) for r in rows])
    th = np.float32(0.5)
    out = os.path.join(d, "out")
    arn1 = "arn:aws:lookoutvision:local:000000000000:model/parts/1"
    arn2 = "arn:aws:lookoutvision:local:000000000000:model/seg/2"
    check_result(f"{out}/EvaluationResult-parts-1.json", scores, labels, th, arn1, 40, 24)
    check_result(f"{out}/EvaluationResult-seg-2.json", scores, labels, th, arn2, 40, 24, pixel_classes=["scratch", "dent"])
    check_result(f"{out}/EvaluationResult-single-1.json", scores, np.zeros_like(labels), np.float32(2.0), arn1, 40, 24,
                 single=True)
    check_manifest(f"{out}/EvaluationManifest-parts-1.json", scores, labels, th, "parts", "1", arn1,
                   "training-job/anomaly-detection")
    check_manifest(f"{out}/EvaluationManifest-seg-2.json", scores, labels, th, "seg", "2", arn2, "training-job/seg-2",
                   seg=True)
    wrong = int((verdicts != labels).sum())
    real = len(sys.argv) > 2 and sys.argv[2] == "--real-image"
    check_report(f"{out}/EvaluationReport-parts-1.html", wrong, 1, real)
    check_report(f"{out}/EvaluationReport-seg-2.html", wrong, 1, real, pixel=True)
    left = glob.glob(f"{out}/*.tmp.*")
    expect(not left, f"temporary files left behind: {left}")
    expect(not os.path.exists(f"{out}/EvaluationManifest-bad-1.json"), "a failed manifest write left a file")
    print(f"files valid: 3 results, 2 manifests, 2 reports ({wrong} misclassified thumbnails each)")


if __name__ == "__main__":
    main()
