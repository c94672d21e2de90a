#!/usr/bin/python3
"""Issue 2's end-to-end flows through the lookout binary, as a user types them:
  demo     `lookout demo` (generate, import, create-model, wait, describe), then start-model,
           detect-anomalies, stop-model and the deletes on the project it made;
  cookies  ../shared/data/cookies: create-project, create-dataset from the train/ image folder
           (the service splits it), create-model, wait, describe, the evaluation files, start-model,
           detect-anomalies on JPEGs, stop-model, delete-model/dataset/project.

usage: test_flow.py demo LOOKOUT
       test_flow.py cookies LOOKOUT COOKIES_DIR
"""
import glob
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lo_cli_test import ISO, Env  # noqa: E402

mode, lookout = sys.argv[1], sys.argv[2]
t = Env(lookout)


def wait_status(project, version, want, timeout=300):
    deadline = time.time() + timeout
    status = None
    while time.time() < deadline:
        d = t.json('describe-model', '--project-name', project, '--model-version', version)
        status = d.get('ModelDescription', {}).get('Status')
        if status == want:
            return True
        time.sleep(0.5)
    return t.check(False, 'model %s/%s never reached %s (last %s)' % (project, version, want, status))


def check_trained(project, version, bucket, prefix):
    d = t.json('describe-model', '--project-name', project, '--model-version', version)['ModelDescription']
    t.check(d['Status'] == 'TRAINED', 'TRAINED: %s' % d)
    perf = d.get('Performance', {})
    t.check(all(isinstance(perf.get(k), float) and 0 <= perf[k] <= 1 for k in ('F1Score', 'Recall', 'Precision')),
            'Performance: %s' % perf)
    t.check(ISO.match(d.get('EvaluationEndTimestamp', '')), 'EvaluationEndTimestamp %s' % d)
    res = d.get('EvaluationResult', {})
    man = d.get('EvaluationManifest', {})
    t.check(res.get('Key') == '%sEvaluationResult-%s-%s.json' % (prefix, project, version), 'result key %s' % res)
    t.check(man.get('Key') == '%sEvaluationManifest-%s-%s.json' % (prefix, project, version), 'manifest key %s' % man)
    path = os.path.join(t.s3, bucket, res.get('Key', 'missing'))
    if t.check(os.path.isfile(path), 'evaluation result at %s' % path):
        with open(path) as f:
            doc = json.load(f)
        t.check('Version' in doc and 'EvaluationDetails' in doc and
                'Metrics' in doc.get('AggregatedEvaluationResults', {}), 'EvaluationResult layout: %s' % list(doc))
    path = os.path.join(t.s3, bucket, man.get('Key', 'missing'))
    if t.check(os.path.isfile(path), 'evaluation manifest at %s' % path):
        with open(path) as f:
            lines = [json.loads(x) for x in f if x.strip()]
        t.check(lines and all('anomaly-label-detected' in x for x in lines), 'one JSON line per test image')
    return d


def host_detect_stop(project, version, images, content_type):
    started = t.json('start-model', '--project-name', project, '--model-version', version,
                     '--min-inference-units', '1')
    t.check(started.get('Status') in ('STARTING_HOSTING', 'HOSTED'), 'start-model: %s' % started)
    wait_status(project, version, 'HOSTED')
    for img in images:
        r = t.json('detect-anomalies', '--project-name', project, '--model-version', version,
                   '--body', img, '--content-type', content_type)
        res = r.get('DetectAnomalyResult', {})
        t.check(isinstance(res.get('IsAnomalous'), bool) and 0 <= res.get('Confidence', -1) <= 1,
                'DetectAnomalyResult for %s: %s' % (img, r))
    text = t.ok('detect-anomalies', '--project-name', project, '--model-version', version, '--body', images[0],
                '--content-type', content_type, '--output', 'text')
    t.check(text.startswith('DETECTANOMALYRESULT\t'), 'detect-anomalies as text: %r' % text[:80])
    stopped = t.json('stop-model', '--project-name', project, '--model-version', version)
    t.check(stopped.get('Status') in ('STOPPING_HOSTING', 'TRAINED'), 'stop-model: %s' % stopped)
    wait_status(project, version, 'TRAINED')
    rc, _, err = t.run('detect-anomalies', '--project-name', project, '--model-version', version,
                       '--body', images[0], '--content-type', content_type)
    t.check(rc == 254 and '(ValidationException)' in err, 'detect-anomalies after stop: %d %s' % (rc, err))


def delete_all(project, version, dataset_types):
    t.json('delete-model', '--project-name', project, '--model-version', version)
    for dt in dataset_types:
        t.json('delete-dataset', '--project-name', project, '--dataset-type', dt)
    t.json('delete-project', '--project-name', project)
    rc, _, err = t.run('describe-project', '--project-name', project)
    t.check(rc == 254 and 'ResourceNotFoundException' in err, 'project gone: %s' % err)


start = time.time()
if mode == 'demo':
    rc, out, err = t.run('demo', timeout=3000)
    t.check(rc == 0, 'lookout demo: exit %d\n%s\n%s' % (rc, out[-2000:], err[-2000:]))
    t.check('$ lookout describe-model --project-name demo --model-version 1' in out, 'demo shows describe-model')
    t.check(os.path.join(t.s3, 'lookout-demo', 'demo', 'EvaluationResult-demo-1.json') in out,
            'demo says where the evaluation files went')
    if rc == 0:
        check_trained('demo', '1', 'lookout-demo', 'demo/')
        imgs = sorted(glob.glob(os.path.join(t.home, 'demo', 'dataset', 'anomaly', '*.png')))[:2] + \
            sorted(glob.glob(os.path.join(t.home, 'demo', 'dataset', 'normal', '*.png')))[:2]
        host_detect_stop('demo', '1', imgs, 'image/png')
        delete_all('demo', '1', ['train'])
    # a second demo run reuses the generated images and makes a fresh project
    t.check(os.path.isdir(os.path.join(t.home, 'demo', 'dataset', 'normal')), 'demo dataset kept for the next run')
elif mode == 'cookies':
    cookies = sys.argv[3]
    t.json('create-project', '--project-name', 'cookies')
    # The source's own test split has 8 anomalies, under the service's 10-per-class minimum for a
    # separate test dataset, so the project has one dataset (train/) that lookout splits itself;
    # the test/ images stay unseen and serve detect-anomalies.
    d = t.json('create-dataset', '--project-name', 'cookies', '--dataset-type', 'train',
               '--dataset-source', 'ImageFolder={Path=%s}' % os.path.join(cookies, 'train'))
    t.check(d.get('DatasetMetadata', {}).get('Status') in ('CREATE_COMPLETE', 'CREATE_IN_PROGRESS'), 'dataset %s' % d)
    stats = t.json('describe-dataset', '--project-name', 'cookies', '--dataset-type', 'train')
    t.check(stats['DatasetDescription'].get('ImageStats', {}).get('Total') == 63, 'cookies train has 63 images')
    m = t.json('create-model', '--project-name', 'cookies', '--description', 'cookies-flow',
               '--output-config', 'S3Location={Bucket=flow-bucket,Prefix=cookies/}', '--tags', 'Key=data,Value=cookies')
    t.check(m.get('ModelMetadata', {}).get('Status') == 'TRAINING', 'create-model: %s' % m)
    rc, out, err = t.run('wait', 'model-trained', '--project-name', 'cookies', '--model-version', '1', timeout=3000)
    t.check(rc == 0, 'wait model-trained: %d %s' % (rc, err))
    if rc == 0:
        check_trained('cookies', '1', 'flow-bucket', 'cookies/')
        imgs = sorted(glob.glob(os.path.join(cookies, 'test', 'anomaly', '*.jpg')))[:2] + \
            sorted(glob.glob(os.path.join(cookies, 'test', 'normal', '*.jpg')))[:2]
        host_detect_stop('cookies', '1', imgs, 'image/jpeg')
        delete_all('cookies', '1', ['train'])
else:
    sys.exit('unknown mode %s' % mode)
print('%s flow took %.0f s' % (mode, time.time() - start))
t.finish()
