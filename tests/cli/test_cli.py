#!/usr/bin/python3
"""The lookout binary driven as a user drives the AWS CLI: shorthand, JSON and file:// values,
--cli-input-json/yaml and skeleton round trips, every output format, pagination, help, usage
errors (252), service errors (254), the waiter, tags, idempotency replay and mismatch, concurrent
create-model. Uses small generated datasets, so models end TRAINING_FAILED quickly; the training
flows themselves are in test_flow.py.

usage: test_cli.py LOOKOUT
"""
import base64
import json
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lo_cli_test import ISO, Env, image_folder  # noqa: E402

from ruamel.yaml import YAML  # noqa: E402  (the YAML library the AWS CLI uses)

t = Env(sys.argv[1])
SERVICE_ERR = r'^\nAn error occurred \(%s\) when calling the %s operation: .+\n$'

# ---- help and usage --------------------------------------------------------------------------
out = t.ok('help')
for cmd in ('create-project', 'describe-project', 'list-projects', 'delete-project', 'create-dataset',
            'describe-dataset', 'list-dataset-entries', 'update-dataset-entries', 'delete-dataset',
            'create-model', 'describe-model', 'list-models', 'delete-model', 'start-model', 'stop-model',
            'detect-anomalies', 'tag-resource', 'untag-resource', 'list-tags-for-resource', 'wait', 'demo'):
    t.check(re.search(r'^\s+o %s\s' % cmd, out, re.M), 'lookout help lists %s' % cmd)
t.expect(252, [], r'usage: lookout .*lookout: error: the following arguments are required: command')
t.expect(252, ['no-such-command'], r'lookout: error: argument command: Invalid choice, valid choices are:')
t.expect(0, ['create-model', 'help'], None, r'SYNOPSIS\n\s+create-model\n\s+--project-name <value>\n')
t.expect(0, ['help', 'wait'], None, r'model-trained')
t.expect(252, ['create-project'], r'the following arguments are required: --project-name')
t.expect(252, ['create-project', '--project-name', 'p', '--nope', 'x'], r'Unknown options: --nope, x')
t.expect(252, ['list-projects', '--output', 'xml'], r'argument --output: Invalid choice')
t.expect(252, ['create-model', '--project-name', 'p', '--output-config', 'S3Location={Bucket=b'],
         r"Error parsing parameter '--output-config': Expected: ',', received: 'EOF'")
t.expect(252, ['create-model', '--project-name', 'p', '--output-config', '{"S3Location": {'],
         r"Error parsing parameter '--output-config': Invalid JSON")
t.expect(252, ['create-model', '--project-name', 'p', '--output-config', 'S3Location={Bucket=b}'],
         r'Parameter validation failed:\nInvalid length for parameter OutputConfig.S3Location.Bucket, value: 1, '
         r'valid min length: 3')
t.expect(252, ['wait', 'model-trained', '--project-name', 'p'], r'required: --model-version')
t.expect(252, ['wait', 'model-nothing'], r'Invalid choice')

# ---- projects: output formats, service errors -----------------------------------------------
rc, out, err = t.run('create-project', '--project-name', 'alpha')
t.check(rc == 0, 'create-project alpha: %s' % err)
t.check(out.startswith('{\n    "ProjectMetadata": {\n        "ProjectArn": '), '4-space JSON like the AWS CLI: %r' % out)
meta = json.loads(out)['ProjectMetadata']
t.check(meta['ProjectArn'] == 'arn:aws:lookoutvision:local:000000000000:project/alpha', 'ARN %s' % meta)
t.check(ISO.match(meta['CreationTimestamp']), 'ISO 8601 timestamp: %s' % meta['CreationTimestamp'])
t.expect(254, ['create-project', '--project-name', 'alpha'], SERVICE_ERR % ('ConflictException', 'CreateProject'))
t.expect(254, ['describe-project', '--project-name', 'missing'],
         SERVICE_ERR % ('ResourceNotFoundException', 'DescribeProject'))
t.expect(254, ['create-project', '--project-name', 'bad name!'], SERVICE_ERR % ('ValidationException', 'CreateProject'))

desc = t.json('describe-project', '--project-name', 'alpha')
text = t.ok('describe-project', '--project-name', 'alpha', '--output', 'text')
t.check(text == 'PROJECTDESCRIPTION\t%s\t%s\t%s\n' % (desc['ProjectDescription']['CreationTimestamp'],
                                                       meta['ProjectArn'], 'alpha'), 'text output: %r' % text)
table = t.ok('describe-project', '--project-name', 'alpha', '--output', 'table')
t.check(re.match(r'^-+\n\|\s+DescribeProject\s+\|\n', table) and '||  ProjectName       |  alpha' in table,
        'table output:\n%s' % table)
yml = t.ok('describe-project', '--project-name', 'alpha', '--output', 'yaml')
t.check(YAML(typ='safe').load(yml) == desc, 'yaml output parses to the JSON output:\n%s' % yml)
t.check(t.ok('--output', 'text', 'describe-project', '--project-name', 'alpha') == text, 'global --output first')
t.env['AWS_DEFAULT_OUTPUT'] = 'text'
t.check(t.ok('describe-project', '--project-name', 'alpha') == text, 'AWS_DEFAULT_OUTPUT=text')
del t.env['AWS_DEFAULT_OUTPUT']

# ---- skeletons and cli-input round trips ------------------------------------------------------
skel = json.loads(t.ok('create-project', '--generate-cli-skeleton'))
t.check(skel == {'ProjectName': '', 'ClientToken': ''}, 'input skeleton %s' % skel)
skel.update(ProjectName='from-json', ClientToken='tok-1')
t.json('create-project', '--cli-input-json', json.dumps(skel))
skel_file = os.path.join(t.tmp.name, 'skel.json')
with open(skel_file, 'w') as f:
    json.dump(dict(skel, ProjectName='from-json-file', ClientToken='tok-2'), f)
t.json('create-project', '--cli-input-json', 'file://' + skel_file)
yskel = t.ok('create-project', '--generate-cli-skeleton', 'yaml-input')
t.check(yskel.startswith("ProjectName: ''  # [REQUIRED]"), 'yaml skeleton %r' % yskel)
filled = yskel.replace("ProjectName: ''", 'ProjectName: from-yaml').replace("ClientToken: ''", 'ClientToken: tok-3')
t.json('create-project', '--cli-input-yaml', filled)
yfile = os.path.join(t.tmp.name, 'skel.yaml')
with open(yfile, 'w') as f:
    f.write(filled.replace('from-yaml', 'from-yaml-file').replace('tok-3', 'tok-4'))
t.json('create-project', '--cli-input-yaml', 'file://' + yfile)
over = t.json('create-project', '--cli-input-json', '{"ProjectName": "ignored"}', '--project-name', 'explicit')
t.check(over.get('ProjectMetadata', {}).get('ProjectName') == 'explicit', 'explicit options override cli-input keys')
t.expect(252, ['create-project', '--cli-input-json', '{"ProjectName": "x", "Bogus": 1}'],
         r'Unknown parameter in input: "Bogus", must be one of: ProjectName, ClientToken')
t.expect(252, ['create-project', '--cli-input-json', '{"ProjectName": ""}'],
         r'Invalid length for parameter ProjectName, value: 0, valid min length: 1')
t.expect(252, ['create-project', '--cli-input-json', '[1]'], r'Invalid type: expecting map')
t.expect(252, ['create-project', '--cli-input-yaml', 'a: [1'], r"Error parsing parameter '--cli-input-yaml'")
t.expect(252, ['create-project', '--cli-input-json', '{}', '--cli-input-yaml', '{}'], r'Only one --cli-input-')
oskel = t.json('describe-project', '--project-name', 'alpha', '--generate-cli-skeleton', 'output')
t.check(oskel.get('ProjectDescription', {}).get('ProjectName') == 'ProjectName' and
        oskel['ProjectDescription'].get('CreationTimestamp') == '1970-01-01T00:00:00', 'output skeleton %s' % oskel)
# the big one: create-model's skeleton filled in and fed back (created below, after a dataset exists)

# ---- pagination -------------------------------------------------------------------------------
for i in range(4):
    t.json('create-project', '--project-name', 'page-%d' % i)
everything = [p['ProjectName'] for p in t.json('list-projects')['Projects']]
t.check(len(everything) == 10 and len(set(everything)) == 10, 'list-projects lists all 10: %s' % everything)
seen, token, pages = [], None, 0
while True:
    args = ['list-projects', '--max-items', '3'] + (['--starting-token', token] if token else [])
    page = t.json(*args)
    seen += [p['ProjectName'] for p in page['Projects']]
    token = page.get('NextToken')
    pages += 1
    t.check(len(page['Projects']) <= 3, '--max-items 3 gives at most 3')
    if not token or pages > 10:
        break
t.check(seen == everything, '--max-items/--starting-token walk: %s vs %s' % (seen, everything))
t.check(pages == 4, '10 items in pages of 3 is 4 pages, got %d' % pages)
small = [p['ProjectName'] for p in t.json('list-projects', '--page-size', '1')['Projects']]
t.check(small == everything, '--page-size 1 still returns everything')
mixed = t.json('list-projects', '--page-size', '2', '--max-items', '5')
t.check([p['ProjectName'] for p in mixed['Projects']] == everything[:5] and 'NextToken' in mixed,
        '--page-size 2 --max-items 5 stops inside a page')
rest = t.json('list-projects', '--page-size', '2', '--starting-token', mixed['NextToken'])
t.check([p['ProjectName'] for p in rest['Projects']] == everything[5:], 'resume from inside a page')
raw = t.json('list-projects', '--no-paginate', '--max-results', '4')
t.check(len(raw['Projects']) == 4 and raw.get('NextToken'), '--no-paginate --max-results 4: one service page')
t.expect(252, ['list-projects', '--no-paginate', '--max-items', '2'], r'Cannot specify --no-paginate along with')
txt = t.ok('list-projects', '--max-items', '2', '--output', 'text')
t.check(txt.count('PROJECTS\t') == 2 and re.search(r'\nNEXTTOKEN\t\S+\n$', txt), 'paginated text output: %r' % txt)

# ---- datasets: ImageFolder shorthand, GroundTruthManifest JSON, entries, update ----------------
small_dir = image_folder(os.path.join(t.tmp.name, 'small'), 3, 2)
ds = t.json('create-dataset', '--project-name', 'alpha', '--dataset-type', 'train',
            '--dataset-source', 'ImageFolder={Path=%s}' % small_dir)
t.check(ds.get('DatasetMetadata', {}).get('DatasetType') == 'train', 'create-dataset from ImageFolder: %s' % ds)
dd = t.json('describe-dataset', '--project-name', 'alpha', '--dataset-type', 'train')
t.check(dd.get('DatasetDescription', {}).get('ImageStats', {}).get('Total') == 5, 'describe-dataset: %s' % dd)
entries = t.json('list-dataset-entries', '--project-name', 'alpha', '--dataset-type', 'train')['DatasetEntries']
t.check(len(entries) == 5 and all(json.loads(e).get('source-ref') for e in entries), 'entries %s' % entries)
two = t.json('list-dataset-entries', '--project-name', 'alpha', '--dataset-type', 'train', '--max-items', '2')
t.check(len(two['DatasetEntries']) == 2 and two.get('NextToken'), 'entries paginate')
normal_only = t.json('list-dataset-entries', '--project-name', 'alpha', '--dataset-type', 'train',
                     '--anomaly-class', 'normal')['DatasetEntries']
t.check(len(normal_only) == 3, '--anomaly-class normal: %d' % len(normal_only))
labeled = t.json('list-dataset-entries', '--project-name', 'alpha', '--dataset-type', 'train', '--labeled')
t.check(len(labeled['DatasetEntries']) == 5, '--labeled flag')
t.json('list-dataset-entries', '--project-name', 'alpha', '--dataset-type', 'train',
       '--before-creation-date', '2999-01-01T00:00:00Z')
# a Ground Truth manifest in the local S3 mirror, given as JSON
bucket = os.path.join(t.s3, 'bkt')
image_folder(os.path.join(bucket, 'imgs'), 2, 1)
lines = []
for sub, name, label in (('normal', 'n000.png', 0), ('normal', 'n001.png', 0), ('anomaly', 'a000.png', 1)):
    lines.append(json.dumps({'source-ref': 's3://bkt/imgs/%s/%s' % (sub, name), 'anomaly-label': label,
                             'anomaly-label-metadata': {'class-name': 'anomaly' if label else 'normal',
                                                        'type': 'groundtruth/image-classification'}}))
with open(os.path.join(bucket, 'train.manifest'), 'w') as f:
    f.write('\n'.join(lines) + '\n')
t.json('create-project', '--project-name', 'beta')
t.json('create-dataset', '--project-name', 'beta', '--dataset-type', 'train', '--dataset-source',
       '{"GroundTruthManifest": {"S3Object": {"Bucket": "bkt", "Key": "train.manifest"}}}')
t.check(t.json('describe-dataset', '--project-name', 'beta', '--dataset-type', 'train')
        ['DatasetDescription'].get('ImageStats', {}).get('Total') == 3, 'manifest import')
# update-dataset-entries: fileb:// (raw bytes) and the base64 text the CLI v2 takes by default
image_folder(os.path.join(bucket, 'more'), 1, 0)
change = json.dumps({'source-ref': 's3://bkt/more/normal/n000.png', 'anomaly-label': 0,
                     'anomaly-label-metadata': {'class-name': 'normal'}}) + '\n'
chg = os.path.join(t.tmp.name, 'changes.jsonl')
with open(chg, 'w') as f:
    f.write(change)
t.json('update-dataset-entries', '--project-name', 'beta', '--dataset-type', 'train', '--changes', 'fileb://' + chg)
t.check(len(t.json('list-dataset-entries', '--project-name', 'beta', '--dataset-type', 'train')
            ['DatasetEntries']) == 4, 'update-dataset-entries added an entry (fileb://)')
t.expect(255, ['update-dataset-entries', '--project-name', 'beta', '--dataset-type', 'train', '--changes', 'not base64!'],
         r'Invalid base64')
b64 = base64.b64encode(change.encode()).decode()
t.json('update-dataset-entries', '--project-name', 'beta', '--dataset-type', 'train', '--changes', b64)

# ---- models: skeleton round trip, wait on failure, tags, idempotency, concurrency --------------
mskel = json.loads(t.ok('create-model', '--generate-cli-skeleton', 'input'))
mskel.update(ProjectName='alpha', Description='from-skeleton', ClientToken='skel-token')
mskel['OutputConfig']['S3Location'].update(Bucket='out-bucket', Prefix='runs/')
mskel.pop('KmsKeyId')
mskel['Tags'][0].update(Key='team', Value='line-3')
m1 = t.json('create-model', '--cli-input-json', json.dumps(mskel))
md = m1.get('ModelMetadata', {})
t.check(md.get('Status') == 'TRAINING' and md.get('ModelVersion') == '1', 'create-model answers TRAINING v1: %s' % m1)
t.check(md.get('ModelArn') == 'arn:aws:lookoutvision:local:000000000000:model/alpha/1', 'model ARN %s' % md)
# the same token and parameters: the first answer again, nothing new started
replay = t.json('create-model', '--cli-input-json', json.dumps(mskel))
t.check(replay == m1, 'idempotent replay returns the first ModelMetadata: %s vs %s' % (replay, m1))
t.expect(254, ['create-model', '--cli-input-json', json.dumps(dict(mskel, Description='changed'))],
         SERVICE_ERR % ('ConflictException', 'CreateModel'))
rc, out, err = t.run('wait', 'model-trained', '--project-name', 'alpha', '--model-version', '1', '--delay', '0.2')
t.check(rc == 255 and 'TRAINING_FAILED' in err, 'wait on a too-small dataset: exit %d, %r' % (rc, err))
d1 = t.json('describe-model', '--project-name', 'alpha', '--model-version', '1')['ModelDescription']
t.check(d1['Status'] == 'TRAINING_FAILED' and d1.get('StatusMessage'), 'TRAINING_FAILED with a reason: %s' % d1)
t.check(d1['StatusMessage'] in err, 'the waiter prints the StatusMessage')
t.check(len(t.json('list-models', '--project-name', 'alpha')['Models']) == 1, 'the replay started nothing')
arn = md.get('ModelArn', '')
tags = t.json('list-tags-for-resource', '--resource-arn', arn)
t.check(tags == {'Tags': [{'Key': 'team', 'Value': 'line-3'}]}, 'tags from create-model: %s' % tags)
t.json('tag-resource', '--resource-arn', arn, '--tags', 'Key=a,Value=1', 'Key=b,Value=2')
t.json('untag-resource', '--resource-arn', arn, '--tag-keys', 'team', 'a')
tags = t.json('list-tags-for-resource', '--resource-arn', arn)
t.check(tags == {'Tags': [{'Key': 'b', 'Value': '2'}]}, 'tag/untag: %s' % tags)
tt = t.ok('list-tags-for-resource', '--resource-arn', arn, '--output', 'text')
t.check(tt == 'TAGS\tb\t2\n', 'tags as text: %r' % tt)
t.expect(254, ['detect-anomalies', '--project-name', 'alpha', '--model-version', '1', '--body',
               os.path.join(small_dir, 'normal', 'n000.png'), '--content-type', 'image/png'],
         SERVICE_ERR % ('ValidationException', 'DetectAnomalies'))
t.expect(252, ['detect-anomalies', '--project-name', 'alpha', '--model-version', '1', '--body', '/nonexistent.png',
               '--content-type', 'image/png'], r'Blob values must be a path to a file')
# two create-model calls at the same instant get two versions
cmd = [t.lookout, 'create-model', '--project-name', 'alpha', '--output-config',
       'S3Location={Bucket=out-bucket,Prefix=concurrent/}']
procs = [subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=t.env) for _ in range(2)]
versions = []
for p in procs:
    o, e = p.communicate(timeout=120)
    t.check(p.returncode == 0, 'concurrent create-model: %s' % e)
    if p.returncode == 0:
        versions.append(json.loads(o)['ModelMetadata']['ModelVersion'])
t.check(sorted(versions) == ['2', '3'], 'concurrent create-model got versions %s' % versions)
for v in versions:
    t.run('wait', 'model-trained', '--project-name', 'alpha', '--model-version', v, '--delay', '0.2')
models = t.json('list-models', '--project-name', 'alpha')['Models']
t.check([m['ModelVersion'] for m in models] == ['1', '2', '3'] or
        sorted(m['ModelVersion'] for m in models) == ['1', '2', '3'], 'list-models: %s' % models)
t.check(all(ISO.match(m['CreationTimestamp']) for m in models), 'list-models timestamps ISO 8601')
t.expect(254, ['delete-project', '--project-name', 'alpha'], SERVICE_ERR % ('ConflictException', 'DeleteProject'))
for v in ('1', '2', '3'):
    t.json('delete-model', '--project-name', 'alpha', '--model-version', v)
t.expect(254, ['describe-model', '--project-name', 'alpha', '--model-version', '1'],
         SERVICE_ERR % ('ResourceNotFoundException', 'DescribeModel'))
oc_file = os.path.join(t.tmp.name, 'oc.json')
with open(oc_file, 'w') as f:
    f.write('{"S3Location": {"Bucket": "out-bucket"}}')
again = t.json('create-model', '--project-name', 'alpha', '--output-config', 'file://' + oc_file)
t.check(again and again['ModelMetadata']['ModelVersion'] == '4', 'versions are never reused: %s' % again)
t.run('wait', 'model-trained', '--project-name', 'alpha', '--model-version', '4', '--delay', '0.2')
t.json('delete-model', '--project-name', 'alpha', '--model-version', '4')
t.json('delete-dataset', '--project-name', 'alpha', '--dataset-type', 'train')
t.json('delete-project', '--project-name', 'alpha')
t.expect(254, ['describe-project', '--project-name', 'alpha'],
         SERVICE_ERR % ('ResourceNotFoundException', 'DescribeProject'))
t.finish()
