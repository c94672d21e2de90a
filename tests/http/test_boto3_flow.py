"""The Lookout for Vision flow in a short boto3 script against `lookout serve`, the modeled
exception classes boto3 raises, and hosting surviving a server restart."""
import os
import sys
import time

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lookout_server import REGION, Server, make_cookie_dataset, wait_model  # noqa: E402

TRAIN_TIMEOUT = int(os.environ.get("LOOKOUT_TEST_TRAIN_TIMEOUT", "900"))


def client(srv, key, secret=None):
    return boto3.client("lookoutvision", endpoint_url=srv.endpoint, region_name=REGION,
                        aws_access_key_id=key["AccessKeyId"], aws_secret_access_key=secret or key["SecretAccessKey"],
                        config=Config(retries={"max_attempts": 1}, read_timeout=120))


def raises(exc, fn, **kw):
    try:
        fn(**kw)
    except exc as e:
        return e
    raise AssertionError("%s(%s) did not raise %s" % (fn.__name__, kw, exc))


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
    lv = client(srv, key)
    bucket, manifest, jpeg = make_cookie_dataset(srv, shared)
    with open(jpeg, "rb") as f:
        image = f.read()

    lv.create_project(ProjectName="cookies")
    raises(lv.exceptions.ValidationException, lv.create_project, ProjectName="bad name!")
    raises(lv.exceptions.ResourceNotFoundException, lv.describe_model, ProjectName="cookies", ModelVersion="1")
    e = raises(ClientError, client(srv, key, secret="y" * 40).list_projects)
    assert e.response["Error"]["Code"] == "InvalidSignatureException", e.response
    ro = client(srv, srv.create_key("--actions", "lookoutvision:DescribeProject"))
    raises(ro.exceptions.AccessDeniedException, ro.create_model, ProjectName="cookies",
           OutputConfig={"S3Location": {"Bucket": bucket}})

    lv.create_dataset(ProjectName="cookies", DatasetType="train",
                      DatasetSource={"GroundTruthManifest": {"S3Object": {"Bucket": bucket, "Key": manifest}}})
    t0 = time.time()
    while lv.describe_dataset(ProjectName="cookies", DatasetType="train")["DatasetDescription"]["Status"] != "CREATE_COMPLETE":
        assert time.time() - t0 < 120, "dataset import did not finish"
        time.sleep(1)
    page = lv.list_dataset_entries(ProjectName="cookies", DatasetType="train", MaxResults=7)
    assert len(page["DatasetEntries"]) == 7 and page.get("NextToken"), page.keys()

    out = {"S3Location": {"Bucket": bucket, "Prefix": "boto/"}}
    meta = lv.create_model(ProjectName="cookies", OutputConfig=out, ClientToken="boto-1")["ModelMetadata"]
    again = lv.create_model(ProjectName="cookies", OutputConfig=out, ClientToken="boto-1")["ModelMetadata"]
    assert again["ModelVersion"] == meta["ModelVersion"] == "1", (meta, again)
    raises(lv.exceptions.ConflictException, lv.create_model, ProjectName="cookies",
           OutputConfig={"S3Location": {"Bucket": bucket, "Prefix": "elsewhere/"}}, ClientToken="boto-1")

    desc = wait_model(lambda: lv.describe_model(ProjectName="cookies", ModelVersion="1"), TRAIN_TIMEOUT)
    md = desc["ModelDescription"]
    assert md["EvaluationResult"]["Key"] == "boto/EvaluationResult-cookies-1.json", md
    assert hasattr(md["CreationTimestamp"], "year"), md  # epoch seconds parsed as a datetime
    assert [m["ModelVersion"] for m in lv.list_models(ProjectName="cookies")["Models"]] == ["1"]

    lv.start_model(ProjectName="cookies", ModelVersion="1", MinInferenceUnits=1)
    wait_model(lambda: lv.describe_model(ProjectName="cookies", ModelVersion="1"), 120, want=("HOSTED",),
               fail=("HOSTING_FAILED",))
    r1 = lv.detect_anomalies(ProjectName="cookies", ModelVersion="1", Body=image, ContentType="image/jpeg")["DetectAnomalyResult"]
    assert isinstance(r1["IsAnomalous"], bool) and 0 <= r1["Confidence"] <= 1, r1

    # a restarted server still hosts the model and gives the same answer
    srv.stop()
    srv.start()
    lv = client(srv, key)
    assert lv.describe_model(ProjectName="cookies", ModelVersion="1")["ModelDescription"]["Status"] == "HOSTED"
    r2 = lv.detect_anomalies(ProjectName="cookies", ModelVersion="1", Body=image, ContentType="image/jpeg")["DetectAnomalyResult"]
    assert (r2["IsAnomalous"], round(r2["Confidence"], 5)) == (r1["IsAnomalous"], round(r1["Confidence"], 5)), (r1, r2)

    lv.stop_model(ProjectName="cookies", ModelVersion="1")
    wait_model(lambda: lv.describe_model(ProjectName="cookies", ModelVersion="1"), 120, want=("TRAINED",), fail=())
    raises(lv.exceptions.ValidationException, lv.detect_anomalies, ProjectName="cookies", ModelVersion="1",
           Body=image, ContentType="image/jpeg")

    arn = md["ModelArn"]
    lv.tag_resource(ResourceArn=arn, Tags=[{"Key": "a", "Value": "1"}, {"Key": "b", "Value": "2"}])
    lv.untag_resource(ResourceArn=arn, TagKeys=["a"])
    assert lv.list_tags_for_resource(ResourceArn=arn)["Tags"] == [{"Key": "b", "Value": "2"}]

    lv.delete_model(ProjectName="cookies", ModelVersion="1")
    t0 = time.time()
    while True:
        try:
            lv.describe_model(ProjectName="cookies", ModelVersion="1")
        except lv.exceptions.ResourceNotFoundException:
            break
        assert time.time() - t0 < 60, "model not deleted"
        time.sleep(1)
    lv.delete_dataset(ProjectName="cookies", DatasetType="train")
    lv.delete_project(ProjectName="cookies")
    assert lv.list_projects()["Projects"] == []


if __name__ == "__main__":
    main()
