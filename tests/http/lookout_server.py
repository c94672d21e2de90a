"""A `lookout serve` for one test: temp LOOKOUT_HOME, a free loopback port, an access key, and
the environment the stock AWS CLI / boto3 need to talk to it. Stopped (and the home removed) on exit."""
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

AWS = "/usr/bin/aws"
REGION = "local"


class Server:
    def __init__(self, lookout, home=None, extra_env=None, args=()):
        self.lookout = lookout
        self.own_home = home is None
        self.home = home or tempfile.mkdtemp(prefix="lookout-http-")
        self.env = dict(os.environ)
        self.env.update({"LOOKOUT_HOME": self.home, "LOOKOUT_REGION": REGION})
        self.env.pop("LOOKOUT_S3_ROOT", None)
        if extra_env:
            self.env.update(extra_env)
        self.args = list(args)
        self.proc = None
        self.port = None

    def start(self):
        self.log = open(os.path.join(self.home, "serve.log"), "ab")
        self.proc = subprocess.Popen([self.lookout, "serve", "--host", "127.0.0.1", "--port", "0"] + self.args,
                                     stdout=subprocess.PIPE, stderr=self.log, env=self.env)
        line = self.proc.stdout.readline().decode()
        if "listening on http://127.0.0.1:" not in line:
            self.dump_log()
            raise RuntimeError("lookout serve did not start: %r" % line)
        self.port = int(line.split("127.0.0.1:")[1].split()[0])
        self.endpoint = "http://127.0.0.1:%d" % self.port
        return self

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                raise RuntimeError("lookout serve ignored SIGTERM for 30 s")
        if self.proc and self.proc.returncode not in (0, None):
            self.dump_log()
            raise RuntimeError("lookout serve exited with %d" % self.proc.returncode)
        self.proc = None

    def dump_log(self):
        try:
            with open(os.path.join(self.home, "serve.log"), "rb") as f:
                sys.stderr.write(f.read().decode(errors="replace")[-8000:])
        except OSError:
            pass

    def create_key(self, *args):
        out = subprocess.run([self.lookout, "create-access-key"] + list(args), env=self.env,
                             capture_output=True, check=True).stdout
        return json.loads(out)["AccessKey"]

    def client_env(self, key, secret=None):
        env = dict(os.environ)
        for k in list(env):
            if k.startswith("AWS_"):
                del env[k]
        env.update({"AWS_ACCESS_KEY_ID": key["AccessKeyId"],
                    "AWS_SECRET_ACCESS_KEY": secret or key["SecretAccessKey"],
                    "AWS_DEFAULT_REGION": REGION, "AWS_EC2_METADATA_DISABLED": "true",
                    "AWS_CONFIG_FILE": "/dev/null", "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
                    "AWS_MAX_ATTEMPTS": "1", "AWS_PAGER": ""})
        return env

    def s3_root(self):
        return os.path.join(self.home, "s3")

    def cleanup(self):
        try:
            self.stop()
        finally:
            if self.own_home:
                shutil.rmtree(self.home, ignore_errors=True)


def aws(server, key, *args, secret=None, check=True):
    """Runs /usr/bin/aws lookoutvision ARGS against the server; returns (rc, parsed stdout, stderr)."""
    cmd = [AWS, "lookoutvision"] + list(args) + ["--endpoint-url", server.endpoint, "--output", "json"]
    p = subprocess.run(cmd, env=server.client_env(key, secret), capture_output=True, timeout=120)
    out = p.stdout.decode()
    err = p.stderr.decode()
    if check and p.returncode != 0:
        raise AssertionError("%s failed (%d): %s" % (" ".join(args), p.returncode, err))
    return p.returncode, (json.loads(out) if out.strip() else None), err


def expect_error(server, key, code, *args, secret=None):
    rc, _, err = aws(server, key, *args, secret=secret, check=False)
    want = "An error occurred (%s)" % code
    if rc == 0 or want not in err:
        raise AssertionError("%s: expected %s, got rc=%d stderr=%s" % (" ".join(args), code, rc, err))
    return err


def make_cookie_dataset(server, shared_data, bucket="factory", prefix="cookies/", n_normal=20, n_anomaly=10):
    """Copies a few cookie photos into the server's local S3 mirror and writes a Ground Truth
    classification manifest for them; returns (bucket, manifest key, a test JPEG path)."""
    src = os.path.join(shared_data, "cookies")
    dst = os.path.join(server.s3_root(), bucket, prefix)
    os.makedirs(os.path.join(dst, "images"), exist_ok=True)
    lines = []
    for cls, n in (("normal", n_normal), ("anomaly", n_anomaly)):
        for i in range(1, n + 1):
            name = "%s-%d.jpg" % (cls, i)
            shutil.copyfile(os.path.join(src, "train", cls, name), os.path.join(dst, "images", name))
            lines.append(json.dumps({
                "source-ref": "s3://%s/%simages/%s" % (bucket, prefix, name),
                "anomaly-label": 1 if cls == "anomaly" else 0,
                "anomaly-label-metadata": {"class-name": cls, "job-name": "labeling-job/anomaly-label",
                                           "human-annotated": "yes", "confidence": 1,
                                           "creation-date": "2024-01-01T00:00:00.000",
                                           "type": "groundtruth/image-classification"}}))
    with open(os.path.join(dst, "train.manifest"), "w") as f:
        f.write("\n".join(lines) + "\n")
    return bucket, prefix + "train.manifest", os.path.join(src, "test", "anomaly", "test-anomaly-1.jpg")


def wait_model(poll, timeout, want=("TRAINED",), fail=("TRAINING_FAILED",)):
    t0 = time.time()
    while True:
        desc = poll()
        status = desc["ModelDescription"]["Status"]
        if status in want:
            return desc
        if status in fail:
            raise AssertionError("model ended %s: %s" % (status, desc["ModelDescription"].get("StatusMessage")))
        if time.time() - t0 > timeout:
            raise AssertionError("model still %s after %d s" % (status, timeout))
        time.sleep(1)
