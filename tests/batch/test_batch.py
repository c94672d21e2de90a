#!/usr/bin/python3
"""batch-detect end to end through the built binary (issue 6 item 6).

Trains a small model on ../shared/data/aliens (short LOOKOUT_TRAIN_TIME_BUDGET, retried longer when
the machine is too loaded to train in it), then:
  - batch-detect over the aliens folder: one line per image, each verdict/confidence equal to
    detect-anomalies on the same file (model hosted with start-model), metrics equal to the ones
    recomputed from the lines, EvaluationResult and report written beside;
  - a folder with a truncated JPEG and a non-image: error lines naming the file, the job goes on;
  - a Ground Truth manifest in the S3 mirror: labels read, escapes and bad lines refused per line;
  - unlabelled input: no metrics; service and usage errors with the CLI's exit codes.

usage: test_batch.py full|quick LOOKOUT SHARED_DATA
  quick: only what needs no trained model (usage and service errors, the untrained-model refusal),
         fast enough for the sanitizer run; full: everything (trains, so labelled slow).
"""
import concurrent.futures
import glob
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

mode, lookout, shared = sys.argv[1], sys.argv[2], sys.argv[3]
aliens = os.path.join(shared, 'aliens')
tmp = tempfile.mkdtemp(prefix='lookout-batch-')
env = dict(os.environ, LOOKOUT_HOME=os.path.join(tmp, 'home'), LOOKOUT_S3_ROOT=os.path.join(tmp, 's3'))
env.pop('LOOKOUT_TRAIN_TIME_BUDGET', None)
s3 = env['LOOKOUT_S3_ROOT']
failures = 0


def check(cond, what):
    global failures
    if not cond:
        failures += 1
        print('FAIL: %s' % what, flush=True)
    return cond


def run(*args, budget=None):
    e = dict(env)
    if budget:
        e['LOOKOUT_TRAIN_TIME_BUDGET'] = budget
    return subprocess.run([lookout] + list(args), env=e, capture_output=True, text=True, timeout=600)


def ok_json(*args, **kw):
    p = run(*args, **kw)
    if not check(p.returncode == 0, '%s: rc %d: %s' % (' '.join(args[:1]), p.returncode, p.stderr)):
        raise SystemExit(1)
    return json.loads(p.stdout) if p.stdout.strip() else {}


def batch(*extra, prefix='out/'):
    p = run('batch-detect', '--project-name', 'aliens', '--model-version', version,
            '--output-config', 'S3Location={Bucket=batch-bkt,Prefix=%s}' % prefix, *extra)
    return p


def lines_of(summary):
    path = os.path.join(s3, summary['Output']['Bucket'], summary['Output']['Key'])
    with open(path) as f:
        return [json.loads(x) for x in f]


def train():
    ok_json('create-project', '--project-name', 'aliens')
    ok_json('create-dataset', '--project-name', 'aliens', '--dataset-type', 'train',
            '--dataset-source', json.dumps({'ImageFolder': {'Path': aliens}}))
    for attempt, budget in enumerate(('15', '60', '240')):
        out = ok_json('create-model', '--project-name', 'aliens', '--output-config',
                      'S3Location={Bucket=train-bkt,Prefix=eval/}', budget=budget)
        version = out['ModelMetadata']['ModelVersion']
        run('wait', 'model-trained', '--project-name', 'aliens', '--model-version', version)
        d = ok_json('describe-model', '--project-name', 'aliens', '--model-version', version)['ModelDescription']
        if d['Status'] == 'TRAINED':
            return version
        print('attempt %d (budget %s s): %s %s' % (attempt, budget, d['Status'], d.get('StatusMessage')))
        if 'budget' not in d.get('StatusMessage', ''):
            break
    check(False, 'the aliens model did not train')
    raise SystemExit(1)


def full():
    global version, loose, folder
    version = train()
    print('trained in %.1f s' % (time.time() - t0), flush=True)

    # --- the whole aliens folder, before hosting (a TRAINED model is enough) -------------------------
    p = batch('--image-folder', aliens, '--batch-size', '7')
    check(p.returncode == 0, 'batch-detect aliens: rc %d %s' % (p.returncode, p.stderr))
    summary = json.loads(p.stdout)
    n_images = len(glob.glob(os.path.join(aliens, 'normal', '*.png')) + glob.glob(os.path.join(aliens, 'anomaly', '*.png')))
    check(summary['NumberOfImages'] == n_images == 118, 'one line per image: %s' % summary)
    check(summary['NumberOfErrors'] == 0 and summary['NumberOfLabeledImages'] == n_images, 'no errors, all labelled')
    check(summary['Output']['Key'].startswith('out/BatchDetect-aliens-%s-' % version) and
          summary['Output']['Key'].endswith('.jsonl'), 'output key %s' % summary['Output']['Key'])
    lines = lines_of(summary)
    check(len(lines) == n_images, '%d lines' % len(lines))
    check(sorted(x['source-ref'] for x in lines) ==
          sorted(glob.glob(os.path.join(aliens, 'normal', '*.png')) + glob.glob(os.path.join(aliens, 'anomaly', '*.png'))),
          'every image appears once')
    for x in lines:
        want = 'anomaly' if '/anomaly/' in x['source-ref'] else 'normal'
        check(x.get('GroundTruth') == want, 'label of %s' % x['source-ref'])
        check(isinstance(x.get('IsAnomalous'), bool) and 0.5 <= x.get('Confidence', -1) <= 1 and
              'AnomalyAreaFraction' in x, 'result fields %s' % x)
    check(not [f for f in os.listdir(os.path.join(s3, 'batch-bkt', 'out')) if '.tmp' in f], 'no temporaries left')

    # metrics: recomputed from the lines
    tp = sum(1 for x in lines if x['IsAnomalous'] and x['GroundTruth'] == 'anomaly')
    fp = sum(1 for x in lines if x['IsAnomalous'] and x['GroundTruth'] == 'normal')
    fn = sum(1 for x in lines if not x['IsAnomalous'] and x['GroundTruth'] == 'anomaly')
    tn = sum(1 for x in lines if not x['IsAnomalous'] and x['GroundTruth'] == 'normal')
    m = summary.get('Metrics', {})
    check(m.get('ConfusionMatrix') == {'TruePositives': tp, 'FalsePositives': fp, 'TrueNegatives': tn,
                                       'FalseNegatives': fn}, 'confusion %s vs %s' % (m.get('ConfusionMatrix'), (tp, fp, tn, fn)))
    if tp + fn:
        check(abs(m.get('Recall', -1) - tp / (tp + fn)) < 1e-12, 'recall %s' % m.get('Recall'))
    if tp + fp:
        check(abs(m.get('Precision', -1) - tp / (tp + fp)) < 1e-12, 'precision %s' % m.get('Precision'))
    try:
        from sklearn.metrics import roc_auc_score
        auc = roc_auc_score([x['GroundTruth'] == 'anomaly' for x in lines], [x['AnomalyScore'] for x in lines])
        check(abs(m.get('ROCAUC', -1) - auc) < 1e-6, 'ROC AUC %s vs scikit-learn %s' % (m.get('ROCAUC'), auc))
    except ImportError:
        print('scikit-learn missing: ROC AUC not cross-checked')
    res_path = os.path.join(s3, 'batch-bkt', summary.get('EvaluationResult', {}).get('Key', 'missing'))
    if check(os.path.isfile(res_path), 'EvaluationResult at %s' % res_path):
        with open(res_path) as f:
            doc = json.load(f)
        det = doc.get('EvaluationDetails', {})
        check(det.get('NumberOfTestingImages') == n_images and det.get('ModelArn', '').endswith(':model/aliens/' + version),
              'EvaluationDetails %s' % det)
        check(doc.get('AggregatedEvaluationResults', {}).get('Metrics', {}).get('F1Score') is not None, 'F1Score in file')
    rep_path = os.path.join(s3, 'batch-bkt', summary.get('EvaluationReport', {}).get('Key', 'missing'))
    check(os.path.isfile(rep_path) and open(rep_path).read(200).lower().lstrip().startswith('<!doctype html'),
          'HTML report at %s' % rep_path)

    # --- image by image against detect-anomalies on the hosted model ---------------------------------
    ok_json('start-model', '--project-name', 'aliens', '--model-version', version, '--min-inference-units', '1')


    def detect(path):
        return ok_json('detect-anomalies', '--project-name', 'aliens', '--model-version', version,
                       '--content-type', 'image/png', '--body', path)['DetectAnomalyResult']


    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:  # one process per image: use both cores
        detected = list(pool.map(detect, [x['source-ref'] for x in lines]))
    mismatch = 0
    for x, d in zip(lines, detected):
        same = d['IsAnomalous'] == x['IsAnomalous'] and abs(d['Confidence'] - x['Confidence']) <= 1e-9
        if not same:
            mismatch += 1
            print('differs: %s batch %s %.17g, detect %s %.17g' % (x['source-ref'], x['IsAnomalous'], x['Confidence'],
                                                                   d['IsAnomalous'], d['Confidence']))
    check(mismatch == 0, '%d of %d images differ from detect-anomalies' % (mismatch, len(lines)))
    print('detect-anomalies agrees on %d images (%.1f s so far)' % (len(lines) - mismatch, time.time() - t0), flush=True)

    # --- bad images in a folder: error lines, the job goes on (hosted model: still fine) --------------
    folder = os.path.join(tmp, 'mixed')
    for sub in ('normal', 'anomaly'):
        os.makedirs(os.path.join(folder, sub))
        for name in sorted(os.listdir(os.path.join(aliens, sub)))[:3]:
            os.symlink(os.path.join(aliens, sub, name), os.path.join(folder, sub, name))
    jpeg = sorted(glob.glob(os.path.join(shared, 'cookies', 'train', 'normal', '*.jpg')))[0]
    with open(jpeg, 'rb') as f:
        data = f.read()
    with open(os.path.join(folder, 'normal', 'truncated.jpg'), 'wb') as f:
        f.write(data[:len(data) // 3])
    with open(os.path.join(folder, 'anomaly', 'not-an-image.png'), 'w') as f:
        f.write('hello\n')
    with open(os.path.join(folder, 'anomaly', 'empty.jpg'), 'w') as f:
        pass
    p = batch('--image-folder', folder, '--batch-size', '2', prefix='mixed/')
    check(p.returncode == 0, 'mixed folder: rc %d %s' % (p.returncode, p.stderr))
    s2 = json.loads(p.stdout)
    check(s2['NumberOfImages'] == 9 and s2['NumberOfErrors'] == 3, 'mixed counts %s' % s2)
    by_ref = {x['source-ref']: x for x in lines_of(s2)}
    for bad in ('normal/truncated.jpg', 'anomaly/not-an-image.png', 'anomaly/empty.jpg'):
        x = by_ref.get(os.path.join(folder, bad), {})
        check('Error' in x and bad in x['Error'] and 'IsAnomalous' not in x, 'error line for %s: %s' % (bad, x))
    first = {x['source-ref']: x for x in lines}
    for ref, x in by_ref.items():
        if os.path.islink(ref):
            y = first[os.readlink(ref)]
            check(x['IsAnomalous'] == y['IsAnomalous'] and x['Confidence'] == y['Confidence'],
                  'same result through another folder: %s' % ref)
    check('Metrics' in s2 and s2['Metrics']['ConfusionMatrix']['TruePositives'] +
          s2['Metrics']['ConfusionMatrix']['FalseNegatives'] == 3, 'metrics over the 6 good labelled images: %s' % s2)

    # --- a Ground Truth manifest in the S3 mirror -----------------------------------------------------
    inb = os.path.join(s3, 'in-bkt', 'imgs')
    os.makedirs(inb)
    refs = []
    for sub in ('normal', 'anomaly'):
        for name in sorted(os.listdir(os.path.join(aliens, sub)))[:2]:
            shutil.copy(os.path.join(aliens, sub, name), os.path.join(inb, '%s-%s' % (sub, name)))
            refs.append((sub, 's3://in-bkt/imgs/%s-%s' % (sub, name), os.path.join(aliens, sub, name)))
    os.symlink(os.path.join(aliens, 'normal'), os.path.join(s3, 'in-bkt', 'outside'))
    man = []
    for sub, ref, _ in refs:
        man.append(json.dumps({'source-ref': ref, 'anomaly-label': 1 if sub == 'anomaly' else 0,
                               'anomaly-label-metadata': {'class-name': sub, 'type': 'groundtruth/image-classification',
                                                          'human-annotated': 'yes'}}))
    man.append(json.dumps({'source-ref': 's3://in-bkt/imgs/../../etc/passwd'}))
    man.append(json.dumps({'source-ref': 's3://in-bkt/outside/1.png'}))
    man.append(json.dumps({'source-ref': 's3://in-bkt/imgs/missing.png'}))
    man.append('{not json')
    man.append('')
    with open(os.path.join(s3, 'in-bkt', 'batch.manifest'), 'w') as f:
        f.write('\n'.join(man) + '\n')
    p = batch('--manifest', 's3://in-bkt/batch.manifest', prefix='man/')
    check(p.returncode == 0, 'manifest: rc %d %s' % (p.returncode, p.stderr))
    s3m = json.loads(p.stdout)
    ml = lines_of(s3m)
    check(len(ml) == 8 and s3m['NumberOfErrors'] == 4 and s3m['NumberOfLabeledImages'] == 4, 'manifest counts %s' % s3m)
    for (sub, ref, orig), x in zip(refs, ml):
        y = first[orig]
        check(x['source-ref'] == ref and x.get('GroundTruth') == sub and x.get('Confidence') == y['Confidence'],
              'manifest line %s: %s vs %s' % (ref, x, y))
    check('..' in ml[4].get('Error', ''), 'dot-dot key refused: %s' % ml[4])
    check('outside the S3 mirror' in ml[5].get('Error', ''), 'symlink escape refused: %s' % ml[5])
    check('no such object' in ml[6].get('Error', ''), 'missing object: %s' % ml[6])
    check('line 8' in ml[7].get('Error', ''), 'bad JSON line named: %s' % ml[7])
    check('Metrics' in s3m, 'manifest labels give metrics')

    # --- unlabelled input: no metrics -----------------------------------------------------------------
    loose = os.path.join(tmp, 'loose')
    os.makedirs(loose)
    os.symlink(os.path.join(aliens, 'normal', '1.png'), os.path.join(loose, 'a.png'))
    p = batch('--image-folder', loose, prefix='loose/')
    s4 = json.loads(p.stdout) if p.returncode == 0 else {}
    check(s4.get('NumberOfImages') == 1 and 'Metrics' not in s4 and 'EvaluationResult' not in s4, 'unlabelled: %s' % s4)
    check('GroundTruth' not in lines_of(s4)[0] if s4 else False, 'no GroundTruth on an unlabelled line')



t0 = time.time()
if mode == 'quick':
    version = '1'
    loose = os.path.join(tmp, 'loose')
    os.makedirs(loose)
    os.symlink(os.path.join(aliens, 'normal', '1.png'), os.path.join(loose, 'a.png'))
    folder = None
else:
    full()
# --- errors ---------------------------------------------------------------------------------------
p = run('batch-detect', '--project-name', 'nope', '--model-version', '1', '--image-folder', loose,
        '--output-config', 'S3Location={Bucket=batch-bkt,Prefix=x/}')
check(p.returncode == 254 and 'ResourceNotFoundException' in p.stderr and 'BatchDetect' in p.stderr, 'missing project: %s' % p.stderr)
p = run('batch-detect', '--project-name', 'aliens', '--model-version', '99', '--image-folder', loose,
        '--output-config', 'S3Location={Bucket=batch-bkt,Prefix=x/}')
check(p.returncode == 254 and 'ResourceNotFoundException' in p.stderr, 'missing version: %s' % p.stderr)
if mode == 'full':
    p = batch('--image-folder', os.path.join(tmp, 'no-such-folder'))
    check(p.returncode == 254 and 'no-such-folder' in p.stderr, 'missing folder: %s' % p.stderr)
p = batch('--image-folder', loose, prefix='../escape/')
check(p.returncode == 254 and 'Prefix' in p.stderr, 'prefix escape: %s' % p.stderr)
p = batch('--image-folder', loose, '--batch-size', '0')
check(p.returncode == 252 and '--batch-size' in p.stderr, 'batch size 0: %s' % p.stderr)
p = batch('--image-folder', loose, '--manifest', 's3://in-bkt/batch.manifest')
check(p.returncode == 252, 'both inputs: %s' % p.stderr)
p = run('batch-detect', '--project-name', 'aliens', '--model-version', version, '--image-folder', loose)
check(p.returncode == 252 and '--output-config' in p.stderr, 'missing output config: %s' % p.stderr)
p = batch('--image-folder', loose, '--bogus', '1')
check(p.returncode == 252 and '--bogus' in p.stderr, 'unknown option: %s' % p.stderr)
# a model that is not trained: too few images to train ends TRAINING_FAILED at once
tiny = os.path.join(tmp, 'tiny')
for sub in ('normal', 'anomaly'):
    os.makedirs(os.path.join(tiny, sub))
    for name in sorted(os.listdir(os.path.join(aliens, sub)))[:2]:
        shutil.copy(os.path.join(aliens, sub, name), os.path.join(tiny, sub, name))
ok_json('create-project', '--project-name', 'tiny')
d = ok_json('create-dataset', '--project-name', 'tiny', '--dataset-type', 'train',
            '--dataset-source', json.dumps({'ImageFolder': {'Path': tiny}}))
check(d['DatasetMetadata']['Status'] == 'CREATE_COMPLETE', 'tiny dataset: %s' % d)
ok_json('create-model', '--project-name', 'tiny', '--output-config', 'S3Location={Bucket=train-bkt,Prefix=tiny/}')
run('wait', 'model-trained', '--project-name', 'tiny', '--model-version', '1')
p = run('batch-detect', '--project-name', 'tiny', '--model-version', '1', '--image-folder', loose,
        '--output-config', 'S3Location={Bucket=batch-bkt,Prefix=x/}')
check(p.returncode == 254 and 'ValidationException' in p.stderr and 'TRAINING_FAILED' in p.stderr,
      'untrained model: %s' % p.stderr)

if mode == 'full':
    ok_json('stop-model', '--project-name', 'aliens', '--model-version', version)
print('%s in %.1f s' % ('FAILED (%d)' % failures if failures else 'ok', time.time() - t0))
if not failures:
    shutil.rmtree(tmp, ignore_errors=True)
sys.exit(1 if failures else 0)
