"""`lookout serve` at the HTTP level, with a SigV4 signer written here independently of the
server's: unsigned, expired and tampered requests; malformed bodies; body limits; a slow client
that must not stall others and is dropped after --timeout; many concurrent clients; secrets
never in the log; create-access-key's argument checks."""
import hashlib
import hmac
import http.client
import json
import os
import socket
import subprocess
import sys
import threading
import time
from urllib.parse import quote

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lookout_server import Server  # noqa: E402


def sigv4_headers(srv, key, method, path, query, body, headers=None, amz_date=None, region="local"):
    amz_date = amz_date or time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    h = {"Host": "127.0.0.1:%d" % srv.port, "X-Amz-Date": amz_date}
    h.update(headers or {})
    enc = lambda s: quote(s, safe="-_.~")  # noqa: E731
    cq = "&".join("%s=%s" % kv for kv in sorted((enc(k), enc(v)) for k, v in query))
    names = sorted(n.lower() for n in h)
    lower = {n.lower(): " ".join(str(v).split()) for n, v in h.items()}
    creq = "\n".join([method, quote(path, safe="/~"), cq, "".join("%s:%s\n" % (n, lower[n]) for n in names),
                      ";".join(names), hashlib.sha256(body).hexdigest()])
    scope = "%s/%s/lookoutvision/aws4_request" % (amz_date[:8], region)
    sts = "\n".join(["AWS4-HMAC-SHA256", amz_date, scope, hashlib.sha256(creq.encode()).hexdigest()])
    k = ("AWS4" + key["SecretAccessKey"]).encode()
    for part in (amz_date[:8], region, "lookoutvision", "aws4_request"):
        k = hmac.new(k, part.encode(), hashlib.sha256).digest()
    sig = hmac.new(k, sts.encode(), hashlib.sha256).hexdigest()
    h["Authorization"] = "AWS4-HMAC-SHA256 Credential=%s/%s, SignedHeaders=%s, Signature=%s" % (
        key["AccessKeyId"], scope, ";".join(names), sig)
    return h


def request(srv, method, path, query=(), body=b"", headers=None, key=None, tamper=None, timeout=30, **kw):
    h = sigv4_headers(srv, key, method, path, query, body, headers, **kw) if key else dict(headers or {})
    if tamper:
        body = tamper(body)
    url = path + ("?" + "&".join("%s=%s" % (quote(k, safe="-_.~"), quote(v, safe="-_.~")) for k, v in query) if query else "")
    c = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=timeout)
    c.request(method, url, body=body, headers=h)
    r = c.getresponse()
    data = r.read()
    c.close()
    return r.status, r.getheader("x-amzn-ErrorType"), (json.loads(data) if data else None)


def expect(got, status, etype, needle=None):
    st, et, body = got
    msg = (body or {}).get("message", "")
    assert st == status and et == etype and (needle is None or needle in msg), (got, status, etype, needle)
    assert body.get("Message") == msg, body


def main():
    srv = Server(sys.argv[1], args=["--timeout", "3"]).start()
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
    P = "/2020-11-20/projects"
    # an independent signer agrees with the server
    st, et, body = request(srv, "GET", P, key=key, query=[("maxResults", "5")])
    assert st == 200 and et is None and body == {"Projects": []}, (st, et, body)
    st, et, body = request(srv, "POST", P, key=key, body=b'{"ProjectName":"p1"}',
                           headers={"Content-Type": "application/json", "X-Amzn-Client-Token": "t1"})
    assert st == 200 and body["ProjectMetadata"]["ProjectName"] == "p1", body

    # refused requests: 403 with AWS's names, and nothing changes
    expect(request(srv, "GET", P), 403, "MissingAuthenticationTokenException")
    old = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(time.time() - 20 * 60))
    expect(request(srv, "GET", P, key=key, amz_date=old), 403, "InvalidSignatureException", "Signature expired")
    expect(request(srv, "POST", P, key=key, body=b'{"ProjectName":"p2"}', tamper=lambda b: b'{"ProjectName":"p3"}'),
           403, "InvalidSignatureException", "does not match")
    expect(request(srv, "POST", P, key=key, body=b'{"ProjectName":"p2"}', headers={"X-Amz-Content-SHA256": "0" * 64}),
           403, "InvalidSignatureException", "x-amz-content-sha256")
    expect(request(srv, "GET", P, key=dict(key, AccessKeyId="AKIA0000000000000000")), 403,
           "UnrecognizedClientException")
    expect(request(srv, "GET", P, headers={"Authorization": "AWS4-HMAC-SHA256 Credential=garbage"}), 403,
           "IncompleteSignatureException")
    expect(request(srv, "GET", P, key=key, region="us-east-1"), 403, "InvalidSignatureException", "region")
    st, et, body = request(srv, "GET", P, key=key)
    assert [p["ProjectName"] for p in body["Projects"]] == ["p1"], body
    # a credentials file others can read is a leaked file: every key refused until chmod 600
    cred = os.path.join(srv.home, "credentials")
    os.chmod(cred, 0o644)
    expect(request(srv, "GET", P, key=key), 403, "UnrecognizedClientException")
    os.chmod(cred, 0o600)
    assert request(srv, "GET", P, key=key)[0] == 200

    # malformed input
    expect(request(srv, "POST", P, key=key, body=b'{"ProjectName": '), 400, "SerializationException")
    expect(request(srv, "GET", "/2020-11-20/nothing", key=key), 404, "ResourceNotFoundException")
    expect(request(srv, "GET", P, key=key, query=[("maxResults", "many")]), 400, "ValidationException", "maxResults")

    # body limits: 9 MB image and 11 MB JSON read and refused with 413; 200 MB refused from the headers
    detect = P + "/p1/models/1/detect"
    expect(request(srv, "POST", detect, key=key, body=b"\xff\xd8\xff" + b"\0" * (9 << 20),
                   headers={"Content-Type": "image/jpeg"}), 413, "ValidationException", "8 MB")
    expect(request(srv, "POST", P, key=key, body=b" " * (11 << 20)), 413, "ValidationException", "10 MB")
    s = socket.create_connection(("127.0.0.1", srv.port), timeout=10)
    s.sendall(b"POST %s HTTP/1.1\r\nHost: x\r\nContent-Type: image/jpeg\r\nContent-Length: %d\r\n\r\n" %
              (detect.encode(), 200 << 20))
    head = s.recv(4096)
    s.close()
    assert head.startswith(b"HTTP/1.1 413") and b"ValidationException" in head, head[:200]

    # a client that stalls mid-headers holds only its own connection and is dropped after --timeout
    slow = socket.create_connection(("127.0.0.1", srv.port), timeout=15)
    slow.sendall(b"GET /2020-11-20/projects HTTP/1.1\r\nHost: x\r\n")
    t0 = time.time()
    for _ in range(5):
        st, _, _ = request(srv, "GET", P, key=key, timeout=5)
        assert st == 200
    assert time.time() - t0 < 5, "requests stalled behind a slow client: %.1f s" % (time.time() - t0)
    t0 = time.time()
    try:
        got = slow.recv(100)
    except (ConnectionResetError, socket.timeout) as e:
        got = repr(e).encode()
    assert time.time() - t0 < 10 and not got.startswith(b"HTTP/1.1 200"), got
    slow.close()

    # many concurrent clients, all answered
    errors = []

    def worker():
        try:
            for _ in range(10):
                st, _, body = request(srv, "GET", P + "/p1", key=key)
                if st != 200 or body["ProjectDescription"]["ProjectName"] != "p1":
                    errors.append((st, body))
        except Exception as e:  # noqa: BLE001
            errors.append(repr(e))
    threads = [threading.Thread(target=worker) for _ in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors[:3]

    # create-access-key: bad actions are usage errors; secrets never reach the log
    p = subprocess.run([srv.lookout, "create-access-key", "--actions", "lookoutvision:Fly"], env=srv.env,
                       capture_output=True)
    assert p.returncode == 252 and b"lookoutvision:Fly" in p.stderr, p
    p = subprocess.run([srv.lookout, "create-access-key", "--bogus"], env=srv.env, capture_output=True)
    assert p.returncode == 252, p
    srv.stop()
    with open(os.path.join(srv.home, "serve.log"), "rb") as f:
        log = f.read()
    assert key["SecretAccessKey"].encode() not in log and b"Signature=" not in log, "secret material in the log"
    assert key["AccessKeyId"].encode() in log  # the log does say who called


if __name__ == "__main__":
    main()
