"""The whole Lookout for Vision flow with the stock AWS CLI against `lookout serve`: project,
dataset from a manifest in the local S3 mirror, training, hosting, detection, tags, idempotency
and clean-up, checking what the CLI prints and the error classes it raises."""
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lookout_server import Server, aws, expect_error, make_cookie_dataset, wait_model  # noqa: E402

TRAIN_TIMEOUT = int(os.environ.get("LOOKOUT_TEST_TRAIN_TIMEOUT", "900"))


def main():
    lookout, shared = sys.argv[1], sys.argv[2]
    srv = Server(lookout).start()
    try:
        run(srv, shared)
    except BaseException:
        srv.dump_log()
        raise
    finally:
        srv.cleanup()
    print("ok")


def run(srv, shared):
    key = srv.create_key()
    bucket, manifest, jpeg = make_cookie_dataset(srv, shared)
    P = ["--project-name", "cookies"]

    aws(srv, key, "create-project", *P)
    _, out, _ = aws(srv, key, "create-dataset", *P, "--dataset-type", "train", "--dataset-source",
                    json.dumps({"GroundTruthManifest": {"S3Object": {"Bucket": bucket, "Key": manifest}}}))
    assert out["DatasetMetadata"]["DatasetType"] == "train", out
    t0 = time.time()
    while True:
        _, out, _ = aws(srv, key, "describe-dataset", *P, "--dataset-type", "train")
        st = out["DatasetDescription"]["Status"]
        if st == "CREATE_COMPLETE":
            break
        assert st == "CREATE_IN_PROGRESS" and time.time() - t0 < 120, out
        time.sleep(1)
    stats = out["DatasetDescription"]["ImageStats"]
    assert (stats["Total"], stats["Labeled"], stats["Normal"], stats["Anomaly"]) == (30, 30, 20, 10), stats

    # query-string members: labeled (boolean), anomalyClass, maxResults with the CLI's paging
    _, out, _ = aws(srv, key, "list-dataset-entries", *P, "--dataset-type", "train", "--labeled",
                    "--anomaly-class", "anomaly", "--page-size", "4")
    entries = [json.loads(e) for e in out["DatasetEntries"]]
    assert len(entries) == 10, len(entries)
    assert all(e["anomaly-label-metadata"]["class-name"] == "anomaly" for e in entries), entries[0]

    out_cfg = ["--output-config", "S3Location={Bucket=%s,Prefix=runs/}" % bucket]
    _, out, _ = aws(srv, key, "create-model", *P, *out_cfg, "--description", "first",
                    "--client-token", "tok-1", "--tags", "Key=team,Value=qa")
    meta = out["ModelMetadata"]
    assert meta["ModelVersion"] == "1" and meta["Status"] in ("TRAINING", "TRAINED"), meta
    # same token, same parameters: the first answer again, nothing new started
    _, again, _ = aws(srv, key, "create-model", *P, *out_cfg, "--description", "first",
                      "--client-token", "tok-1", "--tags", "Key=team,Value=qa")
    assert again["ModelMetadata"]["ModelVersion"] == "1", again
    # same token, other parameters: ConflictException
    expect_error(srv, key, "ConflictException", "create-model", *P, *out_cfg, "--description", "second",
                 "--client-token", "tok-1")

    desc = wait_model(lambda: aws(srv, key, "describe-model", *P, "--model-version", "1")[1], TRAIN_TIMEOUT)
    md = desc["ModelDescription"]
    perf = md["Performance"]
    for k in ("F1Score", "Recall", "Precision"):
        assert 0.0 <= perf[k] <= 1.0, perf
    er = md["EvaluationResult"]
    assert er["Bucket"] == bucket and er["Key"] == "runs/EvaluationResult-cookies-1.json", er
    assert os.path.isfile(os.path.join(srv.s3_root(), bucket, er["Key"])), er
    _, out, _ = aws(srv, key, "list-models", *P)
    assert [m["ModelVersion"] for m in out["Models"]] == ["1"], out

    _, out, _ = aws(srv, key, "list-tags-for-resource", "--resource-arn", md["ModelArn"])
    assert out["Tags"] == [{"Key": "team", "Value": "qa"}], out
    aws(srv, key, "tag-resource", "--resource-arn", md["ModelArn"], "--tags", "Key=line,Value=4")
    aws(srv, key, "untag-resource", "--resource-arn", md["ModelArn"], "--tag-keys", "team")
    _, out, _ = aws(srv, key, "list-tags-for-resource", "--resource-arn", md["ModelArn"])
    assert out["Tags"] == [{"Key": "line", "Value": "4"}], out

    expect_error(srv, key, "ValidationException", "detect-anomalies", *P, "--model-version", "1",
                 "--content-type", "image/jpeg", "--body", jpeg)  # not hosted yet
    _, out, _ = aws(srv, key, "start-model", *P, "--model-version", "1", "--min-inference-units", "1")
    assert out["Status"] in ("STARTING_HOSTING", "HOSTED"), out
    wait_model(lambda: aws(srv, key, "describe-model", *P, "--model-version", "1")[1], 120, want=("HOSTED",),
               fail=("HOSTING_FAILED",))
    _, out, _ = aws(srv, key, "detect-anomalies", *P, "--model-version", "1", "--content-type", "image/jpeg",
                    "--body", jpeg)
    r = out["DetectAnomalyResult"]
    assert isinstance(r["IsAnomalous"], bool) and 0.0 <= r["Confidence"] <= 1.0, r
    expect_error(srv, key, "ValidationException", "detect-anomalies", *P, "--model-version", "1",
                 "--content-type", "image/png", "--body", jpeg)  # says PNG, is JPEG
    _, out, _ = aws(srv, key, "stop-model", *P, "--model-version", "1")
    wait_model(lambda: aws(srv, key, "describe-model", *P, "--model-version", "1")[1], 120, want=("TRAINED",),
               fail=())
    expect_error(srv, key, "ResourceNotFoundException", "describe-model", *P, "--model-version", "9")

    aws(srv, key, "delete-model", *P, "--model-version", "1")
    t0 = time.time()
    while True:
        rc, out, err = aws(srv, key, "describe-model", *P, "--model-version", "1", check=False)
        if rc != 0:
            assert "ResourceNotFoundException" in err, err
            break
        assert out["ModelDescription"]["Status"] == "DELETING" and time.time() - t0 < 60, out
        time.sleep(1)
    aws(srv, key, "delete-dataset", *P, "--dataset-type", "train")
    aws(srv, key, "delete-project", *P)
    _, out, _ = aws(srv, key, "list-projects")
    assert out["Projects"] == [], out


if __name__ == "__main__":
    main()
