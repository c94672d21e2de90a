"""`lookout serve` driven by the stock AWS CLI (/usr/bin/aws lookoutvision ... --endpoint-url):
projects, tags, the error classes botocore raises, and SigV4/IAM-style auth. No training here
(test_aws_cli_flow.py does the full model flow)."""
import os
import stat
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lookout_server import Server, aws, expect_error  # noqa: E402


def main():
    srv = Server(sys.argv[1]).start()
    try:
        run(srv)
    except BaseException:
        srv.dump_log()
        raise
    finally:
        srv.cleanup()
    print("ok")


def run(srv):
    key = srv.create_key()
    assert key["Status"] == "Active" and key["AccessKeyId"].startswith("AKIA") and len(key["SecretAccessKey"]) == 40
    cred = os.path.join(srv.home, "credentials")
    assert stat.S_IMODE(os.stat(cred).st_mode) == 0o600, oct(os.stat(cred).st_mode)

    # projects
    _, out, _ = aws(srv, key, "create-project", "--project-name", "widgets")
    arn = out["ProjectMetadata"]["ProjectArn"]
    assert arn == "arn:aws:lookoutvision:local:000000000000:project/widgets", arn
    _, out, _ = aws(srv, key, "describe-project", "--project-name", "widgets")
    assert out["ProjectDescription"]["ProjectName"] == "widgets"
    assert out["ProjectDescription"]["Datasets"] == []
    _, out, _ = aws(srv, key, "list-projects")
    assert [p["ProjectName"] for p in out["Projects"]] == ["widgets"], out

    # the error classes botocore raises for bad input
    expect_error(srv, key, "ValidationException", "create-project", "--project-name", "bad name!")
    expect_error(srv, key, "ConflictException", "create-project", "--project-name", "widgets")
    expect_error(srv, key, "ResourceNotFoundException", "describe-model", "--project-name", "widgets",
                 "--model-version", "7")

    # tags: list travels as repeated query keys (untag), the ARN as one escaped path label
    aws(srv, key, "tag-resource", "--resource-arn", arn, "--tags", "Key=line,Value=3", "Key=shift,Value=night",
        "Key=site,Value=graz")
    _, out, _ = aws(srv, key, "list-tags-for-resource", "--resource-arn", arn)
    assert sorted((t["Key"], t["Value"]) for t in out["Tags"]) == [("line", "3"), ("shift", "night"), ("site", "graz")], out
    aws(srv, key, "untag-resource", "--resource-arn", arn, "--tag-keys", "line", "site")
    _, out, _ = aws(srv, key, "list-tags-for-resource", "--resource-arn", arn)
    assert out["Tags"] == [{"Key": "shift", "Value": "night"}], out

    # authentication: wrong secret, unknown key; nothing changes (more in test_robustness.py)
    expect_error(srv, key, "InvalidSignatureException", "create-project", "--project-name", "evil1",
                 secret="x" * 40)
    expect_error(srv, dict(key, AccessKeyId="AKIAUNKNOWNUNKNOWN00"), "UnrecognizedClientException",
                 "create-project", "--project-name", "evil2")

    # authorization: per-key action lists
    ro = srv.create_key("--actions", "lookoutvision:ListProjects,lookoutvision:DescribeProject")
    _, out, _ = aws(srv, ro, "list-projects")
    assert len(out["Projects"]) == 1
    err = expect_error(srv, ro, "AccessDeniedException", "create-project", "--project-name", "evil3")
    assert "lookoutvision:CreateProject" in err, err
    # create-model with Tags needs TagResource too: denied, and no model is made
    cm = srv.create_key("--actions", "lookoutvision:CreateModel,lookoutvision:ListModels")
    err = expect_error(srv, cm, "AccessDeniedException", "create-model", "--project-name", "widgets",
                       "--output-config", "S3Location={Bucket=out-bucket,Prefix=runs/}",
                       "--tags", "Key=team,Value=qa")
    assert "lookoutvision:TagResource" in err, err
    _, out, _ = aws(srv, cm, "list-models", "--project-name", "widgets")
    assert out["Models"] == [], out
    _, out, _ = aws(srv, key, "list-projects")
    assert [p["ProjectName"] for p in out["Projects"]] == ["widgets"], out

    aws(srv, key, "delete-project", "--project-name", "widgets")
    _, out, _ = aws(srv, key, "list-projects")
    assert out["Projects"] == [], out


if __name__ == "__main__":
    main()
