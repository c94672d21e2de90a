#!/usr/bin/python3
"""The local key store and encryption at rest, disk full and the memory guard (issue 8 items 2, 4),
through the built binary.

  - create-key / list-keys / list-aliases / describe-key / disable-key / enable-key: KMS-shaped
    output (json, text, yaml), ARNs from LOOKOUT_REGION / LOOKOUT_ACCOUNT_ID, store files 0600,
    errors with the CLI's exit codes;
  - create-model --kms-key-id by key id, key ARN, alias and alias ARN: KmsKeyId in describe-model;
    an unknown or disabled key is a ValidationException and no version is created;
  - the snapshot's images are envelopes (no PNG/JPEG magic) yet the model trains and evaluates;
  - a byte flipped in a snapshot image before the worker reads it: TRAINING_FAILED naming the file
    ("authentication failed"); a key disabled between create-model and training: TRAINING_FAILED;
  - LOOKOUT_MAX_MEMORY below the estimate: TRAINING_FAILED with both numbers, peak RSS in the log;
  - disk full (LD_PRELOAD shim: ENOSPC on the model file, then on the evaluation files):
    TRAINING_FAILED saying the disk is full, and nothing else changed.

usage: test_kms.py quick|train LOOKOUT KMS_GEN_DATA ENOSPC_SHIM
  both modes: the key commands and a small dataset; quick: the refusals, the memory guard, the
  tampered snapshot and the late-disabled key (workers that stop before training: fast enough for
  the sanitizer run); train: the real trainings (encrypted snapshot, disk full), slow under ASan.
"""
import concurrent.futures
import glob
import json
import os
import re
import shutil
import stat
import subprocess
import sys
import tempfile
import time

mode, lookout, gen_data, shim = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
tmp = tempfile.mkdtemp(prefix='lookout-kms-')
home = os.path.join(tmp, 'home')
s3 = os.path.join(tmp, 's3')
env = dict(os.environ, LOOKOUT_HOME=home, LOOKOUT_S3_ROOT=s3, OMP_NUM_THREADS='1')
for k in ('LOOKOUT_TRAIN_TIME_BUDGET', 'LOOKOUT_MAX_MEMORY', 'LOOKOUT_REGION', 'LOOKOUT_ACCOUNT_ID',
          'LOOKOUT_WORKER_BIN', 'LD_PRELOAD', 'LOOKOUT_TEST_ENOSPC'):
    env.pop(k, None)
failures = 0
t_start = time.time()


def check(cond, what):
    global failures
    if not cond:
        failures += 1
        print('FAIL: %s' % what, flush=True)
    return cond


def run(*args, extra=None):
    e = dict(env)
    e.update(extra or {})
    return subprocess.run([lookout] + list(args), env=e, capture_output=True, text=True, timeout=900)


def ok_json(*args, extra=None):
    p = run(*args, extra=extra)
    if not check(p.returncode == 0, '%s: rc %d: %s' % (' '.join(args[:3]), p.returncode, p.stderr)):
        raise SystemExit(1)
    return json.loads(p.stdout) if p.stdout.strip() else {}


def describe(version):
    return ok_json('describe-model', '--project-name', 'p', '--model-version', str(version))['ModelDescription']


def wait_final(version, limit=900):
    t0 = time.time()
    while time.time() - t0 < limit:
        d = describe(version)
        if d['Status'] != 'TRAINING':
            return d
        time.sleep(0.3)
    check(False, 'model %s still TRAINING after %d s' % (version, limit))
    return describe(version)


def model_dir(version):
    return os.path.join(home, 'projects', 'p', 'models', str(version))


def log_of(version):
    with open(os.path.join(model_dir(version), 'log.txt')) as f:
        return f.read()


OUT = 'S3Location={Bucket=kms-bkt,Prefix=eval/}'


def create_model(*extra_args, extra=None, out=OUT):
    return run('create-model', '--project-name', 'p', '--output-config', out, *extra_args, extra=extra)


def train_until_done(*extra_args, extra=None, out=OUT):
    """create-model + wait; again with a longer budget when the box was too busy to train any member."""
    for budget in ('8', '30', '120'):
        e = dict(extra or {}, LOOKOUT_TRAIN_TIME_BUDGET=budget)
        p = create_model(*extra_args, extra=e, out=out)
        if not check(p.returncode == 0, 'create-model %s: %s' % (extra_args, p.stderr)):
            return None, None
        v = json.loads(p.stdout)['ModelMetadata']['ModelVersion']
        d = wait_final(v)
        if 'too short' not in d.get('StatusMessage', ''):
            return v, d
        print('model %s: budget %s s too short on this busy machine; retrying longer' % (v, budget), flush=True)
    return v, d


# ---- 1. key commands ---------------------------------------------------------------------------
UUID = re.compile(r'^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$')
k1 = ok_json('create-key', '--description', 'camera line 3', '--alias', 'alias/line3')['KeyMetadata']
kid = k1['KeyId']
arn = 'arn:aws:kms:local:000000000000:key/' + kid
check(UUID.match(kid), 'KeyId is a UUID v4: %s' % kid)
check(k1['Arn'] == arn, 'Arn %s' % k1['Arn'])
check(k1['Enabled'] is True and k1['KeyState'] == 'Enabled' and k1['KeyUsage'] == 'ENCRYPT_DECRYPT',
      'enabled ENCRYPT_DECRYPT key: %s' % k1)
check(k1['Description'] == 'camera line 3' and k1['KeyManager'] == 'CUSTOMER' and k1['AWSAccountId'] == '000000000000',
      'description/manager/account: %s' % k1)
check(re.match(r'^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d', k1['CreationDate']), 'CreationDate ISO 8601: %s' % k1['CreationDate'])
k2 = ok_json('create-key')['KeyMetadata']
check(k2['Description'] == '' and k2['KeyId'] != kid, 'a second key without options: %s' % k2)
keys = ok_json('list-keys')['Keys']
check({'KeyId': kid, 'KeyArn': arn} in keys and len(keys) == 2, 'list-keys: %s' % keys)
aliases = ok_json('list-aliases')['Aliases']
check(any(a['AliasName'] == 'alias/line3' and a['TargetKeyId'] == kid and
          a['AliasArn'] == 'arn:aws:kms:local:000000000000:alias/line3' for a in aliases), 'list-aliases: %s' % aliases)
for ref in (kid, arn, 'alias/line3', 'arn:aws:kms:local:000000000000:alias/line3'):
    d = ok_json('describe-key', '--key-id', ref)['KeyMetadata']
    check(d['KeyId'] == kid, 'describe-key --key-id %s: %s' % (ref, d['KeyId']))
p = run('describe-key', '--key-id', kid, '--output', 'text')
check(p.returncode == 0 and kid in p.stdout and 'ENCRYPT_DECRYPT' in p.stdout, 'text output: %s' % p.stdout)
p = run('--output', 'yaml', 'describe-key', '--key-id', kid)
check(p.returncode == 0 and ('KeyId: ' + kid) in p.stdout, 'yaml output: %s' % p.stdout)
d = ok_json('describe-key', '--key-id', kid, extra={'LOOKOUT_REGION': 'eu-west-1', 'LOOKOUT_ACCOUNT_ID': '123456789012'})
check(d['KeyMetadata']['Arn'] == 'arn:aws:kms:eu-west-1:123456789012:key/' + kid, 'ARN follows region/account: %s' % d)
st_dir, st_file = os.stat(os.path.join(home, 'kms')), os.stat(os.path.join(home, 'kms', 'keys.json'))
check(stat.S_IMODE(st_dir.st_mode) == 0o700 and stat.S_IMODE(st_file.st_mode) == 0o600,
      'store modes %o %o' % (st_dir.st_mode, st_file.st_mode))
for args, rc, text in ((('describe-key', '--key-id', 'no-such-key'), 254, 'NotFoundException'),
                       (('describe-key', '--key-id', 'alias/nope'), 254, 'NotFoundException'),
                       (('describe-key', '--key-id', 'arn:aws:kms:us-east-1:111122223333:key/' + kid), 254,
                        'ValidationException'),
                       (('create-key', '--alias', 'alias/line3'), 254, 'AlreadyExistsException'),
                       (('create-key', '--alias', 'line3'), 254, 'ValidationException'),
                       (('create-key', '--alias', 'alias/aws/mine'), 254, 'reserved'),
                       (('describe-key',), 252, '--key-id'),
                       (('disable-key', '--bogus', 'x'), 252, 'Unknown options'),
                       (('list-keys', '--output', 'xml'), 252, 'xml')):
    p = run(*args)
    check(p.returncode == rc and text in p.stderr, '%s: rc %d (want %d), stderr %r' % (args, p.returncode, rc, p.stderr))
check(len(ok_json('list-keys')['Keys']) == 2, 'failed create-key calls added no key')
p = run('disable-key', '--key-id', 'alias/line3')
check(p.returncode == 0 and p.stdout == '', 'disable-key prints nothing: %r %r' % (p.stdout, p.stderr))
d = ok_json('describe-key', '--key-id', kid)['KeyMetadata']
check(d['Enabled'] is False and d['KeyState'] == 'Disabled', 'disabled: %s' % d)
ok_json('enable-key', '--key-id', arn)
check(ok_json('describe-key', '--key-id', kid)['KeyMetadata']['KeyState'] == 'Enabled', 'enabled again')
p = run('help', 'create-key')
check(p.returncode == 0 and '--kms-key-id' in p.stdout, 'help create-key: %r' % p.stdout[:200])

# ---- 2. a small dataset ------------------------------------------------------------------------
data = os.path.join(tmp, 'data')
subprocess.run([gen_data, data, '20', '10'], check=True)
ok_json('create-project', '--project-name', 'p')
ok_json('create-dataset', '--project-name', 'p', '--dataset-type', 'train',
        '--dataset-source', json.dumps({'ImageFolder': {'Path': data}}))
own_images = sorted(glob.glob(os.path.join(home, 'projects', 'p', 'datasets', 'train', 'data', 'images', '*')))
check(len(own_images) == 30, 'dataset imported: %d images' % len(own_images))



def quick_part():
    ok_json('disable-key', '--key-id', k2['KeyId'])
    for ref, text in (('no-such-key', 'no-such-key'), ('alias/ghost', 'alias/ghost'),
                      (k2['KeyId'], 'disabled'), ('arn:aws:kms:local:000000000000:key/' + k2['KeyId'], 'disabled')):
        p = create_model('--kms-key-id', ref)
        check(p.returncode == 254 and 'ValidationException' in p.stderr and text in p.stderr and ref in p.stderr,
              'create-model --kms-key-id %s: rc %d %r' % (ref, p.returncode, p.stderr))
    check(ok_json('list-models', '--project-name', 'p')['Models'] == [], 'no version created by refused calls')
    check(not os.path.exists(os.path.join(home, 'projects', 'p', 'models')) or
          os.listdir(os.path.join(home, 'projects', 'p', 'models')) == [], 'no model folder (not even a temporary)')

    # ---- 4. the memory guard (quick: fails before training) and --kms-key-id by id and ARN ---------
    versions = {}
    for ref, limit in ((kid, '1M'), (arn, '64K'), ('arn:aws:kms:local:000000000000:alias/line3', '0.001G')):
        p = create_model('--kms-key-id', ref, extra={'LOOKOUT_MAX_MEMORY': limit})
        check(p.returncode == 0, 'create-model --kms-key-id %s: %s' % (ref, p.stderr))
        versions[ref] = json.loads(p.stdout)['ModelMetadata']['ModelVersion']
    check(sorted(versions.values(), key=int) == ['1', '2', '3'], 'versions 1..3 after the refusals: %s' % versions)
    for ref, v in versions.items():
        d = wait_final(v, 300)
        msg = d.get('StatusMessage', '')
        check(d['Status'] == 'TRAINING_FAILED' and 'not enough memory' in msg and 'LOOKOUT_MAX_MEMORY' in msg and
              re.search(r'needs an estimated \d+ MB', msg) and re.search(r'limit is \d+ (MB|bytes)', msg),
              'memory limit refusal names both numbers: %r' % msg)
        check(d.get('KmsKeyId') == ref, 'describe-model KmsKeyId %r, want %r' % (d.get('KmsKeyId'), ref))
        log = log_of(v)
        check('data key unwrapped' in log and 'peak RSS' in log and 'plan:' not in log,
              'log of %s (key unwrapped, refused before training, peak RSS): %r' % (v, log))
    p = create_model('--kms-key-id', kid, extra={'LOOKOUT_MAX_MEMORY': 'lots'})
    d = wait_final(json.loads(p.stdout)['ModelMetadata']['ModelVersion'], 300)
    check(d['Status'] == 'TRAINING_FAILED' and 'LOOKOUT_MAX_MEMORY=lots is not a size' in d['StatusMessage'],
          'bad LOOKOUT_MAX_MEMORY: %r' % d['StatusMessage'])

    # ---- 5. tampering and a key disabled after create-model: a worker that waits for a go-ahead ----
    hold = os.path.join(tmp, 'hold-worker.sh')
    with open(hold, 'w') as f:
        f.write('#!/bin/sh\nwhile [ ! -e "$KMS_TEST_GO" ]; do sleep 0.05; done\nexec "%s" "$@"\n' % lookout)
    os.chmod(hold, 0o755)
    go1, go2 = os.path.join(tmp, 'go1'), os.path.join(tmp, 'go2')
    p1 = create_model('--kms-key-id', 'alias/line3', extra={'LOOKOUT_WORKER_BIN': hold, 'KMS_TEST_GO': go1})
    k3 = ok_json('create-key', '--alias', 'alias/soon-off')['KeyMetadata']
    p2 = create_model('--kms-key-id', 'alias/soon-off', extra={'LOOKOUT_WORKER_BIN': hold, 'KMS_TEST_GO': go2})
    check(p1.returncode == 0 and p2.returncode == 0, 'held create-models: %s %s' % (p1.stderr, p2.stderr))
    v1 = json.loads(p1.stdout)['ModelMetadata']['ModelVersion']
    v2 = json.loads(p2.stdout)['ModelMetadata']['ModelVersion']
    snap = sorted(glob.glob(os.path.join(model_dir(v1), 'datasets', 'train', 'images', '*')))
    check(len(snap) == 30, 'snapshot of %s has 30 images' % v1)
    victim = snap[7]
    with open(victim, 'r+b') as f:
        f.seek(100)
        b = f.read(1)
        f.seek(100)
        f.write(bytes([b[0] ^ 0x01]))
    open(go1, 'w').close()
    ok_json('disable-key', '--key-id', k3['KeyId'])
    open(go2, 'w').close()
    d = wait_final(v1, 300)
    check(d['Status'] == 'TRAINING_FAILED' and 'authentication failed' in d['StatusMessage'] and
          os.path.basename(victim) in d['StatusMessage'], 'tampered snapshot: %r' % d['StatusMessage'])
    d = wait_final(v2, 300)
    check(d['Status'] == 'TRAINING_FAILED' and 'disabled' in d['StatusMessage'] and k3['KeyId'] in d['StatusMessage'],
          'key disabled before training: %r' % d['StatusMessage'])



def train_part():
    # ---- 6. real trainings at once: on an encrypted snapshot, and two on a full disk ---------------
    asan = env.get('ASAN_OPTIONS', '')
    full = {'LD_PRELOAD': shim, 'ASAN_OPTIONS': (asan + ':' if asan else '') + 'verify_asan_link_order=0'}
    with concurrent.futures.ThreadPoolExecutor(3) as ex:
        f_ok = ex.submit(train_until_done, '--kms-key-id', 'alias/line3')
        f_bin = ex.submit(train_until_done, extra=dict(full, LOOKOUT_TEST_ENOSPC='/model.bin'))
        f_eval = ex.submit(train_until_done, extra=dict(full, LOOKOUT_TEST_ENOSPC='/full-bkt/'),
                           out='S3Location={Bucket=full-bkt,Prefix=eval/}')
        (v_ok, d_ok), (v_bin, d_bin), (v_eval, d_eval) = f_ok.result(), f_bin.result(), f_eval.result()

    check(d_ok and d_ok['Status'] == 'TRAINED' and 'Performance' in d_ok, 'trained on an encrypted snapshot: %s' % d_ok)
    if d_ok and d_ok['Status'] == 'TRAINED':
        check(d_ok.get('KmsKeyId') == 'alias/line3', 'KmsKeyId: %s' % d_ok.get('KmsKeyId'))
        res = os.path.join(s3, 'kms-bkt', 'eval/EvaluationResult-p-%s.json' % v_ok)
        check(os.path.isfile(res), 'evaluation result written: %s' % res)
        files = glob.glob(os.path.join(model_dir(v_ok), 'datasets', 'train', '*', '*'))
        files = [f for f in files if '/images/' in f or '/masks/' in f]
        check(len(files) == 40, 'snapshot images + masks: %d' % len(files))
        for fpath in files:
            with open(fpath, 'rb') as f:
                head = f.read(8)
            check(head == b'LKENV1\r\n' and not head.startswith(b'\x89PNG') and not head.startswith(b'\xff\xd8'),
                  '%s is not an envelope: %r' % (fpath, head))
        st = os.stat(os.path.join(model_dir(v_ok), 'data_key.json'))
        check(stat.S_IMODE(st.st_mode) == 0o600, 'data_key.json mode %o' % st.st_mode)
        with open(os.path.join(model_dir(v_ok), 'data_key.json')) as f:
            wk = json.load(f)
        check(wk['KeyId'] == arn and len(wk['CiphertextBlob']) > 40, 'wrapped data key names the key ARN: %s' % wk)
    for im in own_images:
        with open(im, 'rb') as f:
            check(f.read(4) == b'\x89PNG', "the project's own copy %s stays a PNG" % im)

    for what, d in (('model file', d_bin), ('evaluation files', d_eval)):
        check(d and d['Status'] == 'TRAINING_FAILED' and d['StatusMessage'].startswith('the disk is full'),
              'disk full on the %s: %s' % (what, d and d.get('StatusMessage')))
    aliases = [a['AliasName'] for a in ok_json('list-aliases')['Aliases']]
    check('alias/aws/lookoutvision' in aliases, 'the service-owned key was made on first use: %s' % aliases)
    # nothing else changed: the trained model and its files, no temporaries anywhere
    if d_ok and d_ok['Status'] == 'TRAINED':
        check(describe(v_ok) == d_ok, 'the trained model is unchanged')
    temps = [f for f in glob.glob(os.path.join(tmp, '**', '*'), recursive=True) if '.tmp.' in os.path.basename(f)]
    check(temps == [], 'temporaries left behind: %s' % temps)
    check(not [f for f in glob.glob(os.path.join(s3, 'full-bkt', '**'), recursive=True) if os.path.isfile(f)],
          'no evaluation file on the full disk')
    check(not os.path.exists(os.path.join(model_dir(v_bin), 'model.bin')), 'no model file on the full disk')



if mode == 'quick':
    quick_part()
else:
    train_part()
print('kms tests: %d failure(s) in %.0f s' % (failures, time.time() - t_start))
if failures == 0:
    shutil.rmtree(tmp, ignore_errors=True)
else:
    print('state kept in %s' % tmp)
sys.exit(1 if failures else 0)
