"""Shared helpers for the CLI tests: run the built lookout in a private LOOKOUT_HOME, make small
PNG fixtures, check results."""
import json
import os
import random
import re
import struct
import subprocess
import sys
import tempfile
import zlib

ISO = re.compile(r'^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{6})?[+-]\d\d:\d\d$')


class Env:
    def __init__(self, lookout):
        self.lookout = lookout
        self.tmp = tempfile.TemporaryDirectory(prefix='lookout-cli-test-')
        self.home = os.path.join(self.tmp.name, 'home')
        self.env = dict(os.environ, LOOKOUT_HOME=self.home, TZ='UTC')
        for k in ('LOOKOUT_S3_ROOT', 'AWS_DEFAULT_OUTPUT', 'LOOKOUT_REGION', 'LOOKOUT_ACCOUNT_ID'):
            self.env.pop(k, None)
        self.s3 = os.path.join(self.home, 's3')
        self.failures = []
        self.checks = 0

    def run(self, *args, input=None, timeout=600):
        p = subprocess.run([self.lookout] + [str(a) for a in args], capture_output=True, text=True,
                           env=self.env, input=input, timeout=timeout)
        return p.returncode, p.stdout, p.stderr

    def ok(self, *args, **kw):
        rc, out, err = self.run(*args, **kw)
        self.check(rc == 0, 'lookout %s -> %d\n%s%s' % (' '.join(map(str, args)), rc, out, err))
        return out

    def json(self, *args, **kw):
        out = self.ok(*args, **kw)
        try:
            return json.loads(out) if out.strip() else {}
        except ValueError:
            self.check(False, 'not JSON from %s: %r' % (args, out))
            return {}

    def check(self, cond, what):
        self.checks += 1
        if not cond:
            self.failures.append(what)
            print('FAIL', what, file=sys.stderr, flush=True)
        return cond

    def expect(self, rc_want, args, err_regex=None, out_regex=None):
        rc, out, err = self.run(*args)
        self.check(rc == rc_want, 'lookout %s: exit %d, want %d\n%s%s' % (' '.join(map(str, args)), rc, rc_want, out, err))
        if err_regex:
            self.check(re.search(err_regex, err, re.S) is not None,
                       'lookout %s: stderr %r does not match %r' % (' '.join(map(str, args)), err, err_regex))
        if out_regex:
            self.check(re.search(out_regex, out, re.S) is not None,
                       'lookout %s: stdout %r does not match %r' % (' '.join(map(str, args)), out, out_regex))
        return rc, out, err

    def finish(self):
        print('%d passed, %d failed' % (self.checks - len(self.failures), len(self.failures)))
        self.tmp.cleanup()
        sys.exit(1 if self.failures else 0)


def write_png(path, w, h, seed, spot=False):
    """An RGB PNG of smooth noise; spot=True adds a dark blob (a 'defect')."""
    rnd = random.Random(seed)
    base = [rnd.randrange(80, 180) for _ in range(3)]
    rows = []
    for y in range(h):
        row = bytearray([0])
        for x in range(w):
            d = spot and (x - w // 2) ** 2 + (y - h // 2) ** 2 < (w // 6) ** 2
            for c in range(3):
                v = 20 if d else base[c] + rnd.randrange(-10, 11)
                row.append(max(0, min(255, v)))
        rows.append(bytes(row))
    raw = zlib.compress(b''.join(rows))

    def chunk(tag, data):
        return struct.pack('>I', len(data)) + tag + data + struct.pack('>I', zlib.crc32(tag + data) & 0xffffffff)
    png = b'\x89PNG\r\n\x1a\n' + chunk(b'IHDR', struct.pack('>IIBBBBB', w, h, 8, 2, 0, 0, 0)) + \
        chunk(b'IDAT', raw) + chunk(b'IEND', b'')
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, 'wb') as f:
        f.write(png)


def image_folder(root, n_normal, n_anomaly, size=64):
    for i in range(n_normal):
        write_png(os.path.join(root, 'normal', 'n%03d.png' % i), size, size, i)
    for i in range(n_anomaly):
        write_png(os.path.join(root, 'anomaly', 'a%03d.png' % i), size, size, 1000 + i, spot=True)
    return root
