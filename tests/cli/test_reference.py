#!/usr/bin/python3
"""The lookout CLI against the real AWS CLI v2 and botocore on this machine (no network needed):
shorthand parsing (awscli's ShorthandParser), the four output formatters (awscli's formatters on the
same service response), --generate-cli-skeleton input|yaml-input, the help synopsis and options
order, and the usage/validation error texts and exit codes.

usage: test_reference.py TEST_CLI_UNITS LOOKOUT
"""
import contextlib
import datetime
import io
import json
import os
import re
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor

UNITS, LOOKOUT = sys.argv[1], sys.argv[2]
os.environ.update({'AWS_DEFAULT_REGION': 'us-east-1', 'AWS_ACCESS_KEY_ID': 'AKIDEXAMPLE',
                   'AWS_SECRET_ACCESS_KEY': 'secret', 'AWS_CONFIG_FILE': '/dev/null',
                   'AWS_SHARED_CREDENTIALS_FILE': '/dev/null', 'AWS_PAGER': '',
                   'AWS_EC2_METADATA_DISABLED': 'true', 'TZ': 'Asia/Kolkata'})
os.environ.pop('AWS_DEFAULT_OUTPUT', None)
import time  # noqa: E402
time.tzset()

from awscli.clidriver import AWSCLIEntryPoint  # noqa: E402  (first: it sets botocore up)
import botocore.session  # noqa: E402
from awscli.formatter import JSONFormatter, TableFormatter, TextFormatter, YAMLFormatter  # noqa: E402
from awscli.shorthand import ShorthandParser  # noqa: E402
from dateutil.tz import tzlocal  # noqa: E402

MODEL = botocore.session.get_session().get_service_model('lookoutvision')
OPS = ['create-project', 'describe-project', 'list-projects', 'delete-project', 'create-dataset',
       'describe-dataset', 'list-dataset-entries', 'update-dataset-entries', 'delete-dataset',
       'create-model', 'describe-model', 'list-models', 'delete-model', 'start-model', 'stop-model',
       'detect-anomalies', 'tag-resource', 'untag-resource', 'list-tags-for-resource']
failures = []
checks = 0


def check(ok, what):
    global checks
    checks += 1
    if not ok:
        failures.append(what)
        print('FAIL', what, file=sys.stderr)


def aws(args):
    """Runs the AWS CLI in-process: (rc, stdout, stderr)."""
    sys.argv[0] = 'aws'  # argparse names the program after it
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        rc = AWSCLIEntryPoint().main(['lookoutvision'] + args)
    return rc, out.getvalue(), err.getvalue()


def lookout(args, **kw):
    p = subprocess.run([LOOKOUT] + args, capture_output=True, text=True, **kw)
    return p.returncode, p.stdout, p.stderr


# ---- shorthand ---------------------------------------------------------------------------
SHORTHAND = [
    'S3Location={Bucket=b,Prefix=p/}', 'Key=k,Value=v', 'a=b,c,d=e', 'a=[x,y]', 'a=[]', 'a={}',
    "a='q\\'x',b=\"y\"", 'S3Location={Bucket=b', 'a=b,a=c',
    'DatasetSource={GroundTruthManifest={S3Object={Bucket=b,Key=k,VersionId=v1}}}',
    'a=b\\,c, d = e ', 'a', 'a=,b=', 'a=[{b=c},{d=e}]', 'a=[[x,y],[z]]', 'k=v w x', 'k = v',
    'a=b,,c=d', '=v', 'a=b=c', 'a={b=c,d=[e,f]},g=h', "a='it''s'", 'a="x\\\\y"', 'a=[x,y',
    'a={b=c', 'a=x]', 'a=x}', 'a=1,2,3', 'a=true,b=false', 'ImageFolder={Path=/tmp/x y}',
    'Key=spaced key,Value=v', 'a=[x, y , z]', 'a= [x]', 'a.b=c', 'a:b=c', 'a#b=c', 'a-b_c/d=e',
    'k=\u00e9t\u00e9,l=\u65e5\u672c', 'a=b,c=', "a='x'y", 'a="unterminated', 'a=b c,d=e',
]
for text in SHORTHAND:
    try:
        want = ('OK', ShorthandParser().parse(text))
    except Exception as e:  # the reference's own error text
        want = ('ERROR', str(e))
    out = subprocess.run([UNITS, '--shorthand', text], capture_output=True, text=True).stdout
    if out.startswith('ERROR\n'):
        got = ('ERROR', out[len('ERROR\n'):-1])
    else:
        got = ('OK', json.loads(out))
    check(got == want, 'shorthand %r: lookout %r, awscli %r' % (text, got, want))

# ---- formatters ---------------------------------------------------------------------------
T0 = 1606780800.25


def to_cli(shape, value):
    """A service response as the AWS CLI v2 has it before formatting (botocore's parser with the
    CLI's iso8601 timestamp format)."""
    if shape is None:
        return value
    if shape.type_name == 'structure':
        return {k: to_cli(shape.members.get(k), v) for k, v in value.items()}
    if shape.type_name == 'list':
        return [to_cli(shape.member, v) for v in value]
    if shape.type_name == 'map':
        return {k: to_cli(shape.value, v) for k, v in value.items()}
    if shape.type_name == 'timestamp':
        return datetime.datetime.fromtimestamp(value, tzlocal()).isoformat()
    if shape.type_name in ('float', 'double'):
        return float(value)
    if shape.type_name in ('integer', 'long'):
        return int(value)
    return value


RESPONSES = [
    ('DescribeModel', {'ModelDescription': {
        'ModelVersion': '3', 'ModelArn': 'arn:aws:lookoutvision:local:000000000000:model/cookies/3',
        'CreationTimestamp': T0, 'Description': 'second try', 'Status': 'TRAINED',
        'StatusMessage': 'Training completed in 41 s on 63 images',
        'Performance': {'F1Score': 1, 'Recall': 0.9375, 'Precision': 0.8333333333333334},
        'OutputConfig': {'S3Location': {'Bucket': 'my-bucket', 'Prefix': 'runs/'}},
        'EvaluationManifest': {'Bucket': 'my-bucket', 'Key': 'runs/EvaluationManifest-cookies-3.json'},
        'EvaluationResult': {'Bucket': 'my-bucket', 'Key': 'runs/EvaluationResult-cookies-3.json'},
        'EvaluationEndTimestamp': T0 + 41, 'MinInferenceUnits': 1, 'MaxInferenceUnits': 1}}),
    ('ListProjects', {'Projects': [
        {'ProjectArn': 'arn:aws:lookoutvision:local:000000000000:project/a', 'ProjectName': 'a',
         'CreationTimestamp': T0},
        {'ProjectArn': 'arn:aws:lookoutvision:local:000000000000:project/bee', 'ProjectName': 'bee',
         'CreationTimestamp': 1606780801}], 'NextToken': 'eyJOZXh0VG9rZW4iOiAiMiJ9'}),
    ('ListModels', {'Models': [
        {'CreationTimestamp': T0, 'ModelVersion': '1', 'ModelArn': 'arn:m/1', 'Status': 'TRAINING_FAILED',
         'StatusMessage': 'too few images: 3 normal (need 20), 1 anomalous (need 10)'},
        {'CreationTimestamp': T0, 'ModelVersion': '2', 'ModelArn': 'arn:m/2', 'Status': 'HOSTED',
         'StatusMessage': 'Hosted'}]}),
    ('ListModels', {'Models': []}),
    ('DescribeModel', {'ModelDescription': {
        'ModelVersion': '4', 'Status': 'TRAINING_FAILED', 'CreationTimestamp': T0,
        'StatusMessage': 'the training process ended unexpectedly (it was killed or crashed before finishing; '
                         'last log line "plan 4 folds, input 128x128"); create the model again',
        'Description': 'a description that is long enough to be folded by the YAML emitter when it is printed, '
                       'twice over, and then some more words to be sure: it is'}}),
    ('ListTagsForResource', {'Tags': [{'Key': 'team', 'Value': 'line-3'}, {'Key': 'k2', 'Value': ''}]}),
    ('ListDatasetEntries', {'DatasetEntries': [
        '{"source-ref":"s3://b/normal-1.jpg","anomaly-label":0}',
        '{"source-ref":"s3://b/anomaly-1.jpg","anomaly-label":1}']}),
    ('DescribeDataset', {'DatasetDescription': {
        'ProjectName': 'cookies', 'DatasetType': 'train', 'CreationTimestamp': T0,
        'LastUpdatedTimestamp': T0 + 5, 'Status': 'CREATE_COMPLETE', 'StatusMessage': 'Dataset created',
        'ImageStats': {'Total': 63, 'Labeled': 63, 'Normal': 31, 'Anomaly': 32}}}),
    ('DetectAnomalies', {'DetectAnomalyResult': {
        'Source': {'Type': 'direct'}, 'IsAnomalous': True, 'Confidence': 0.97,
        'Anomalies': [{'Name': 'background', 'PixelAnomaly': {'TotalPercentageArea': 0.95, 'Color': '#FFFFFF'}},
                      {'Name': 'cracked', 'PixelAnomaly': {'TotalPercentageArea': 0.05, 'Color': '#23A436'}}],
        'AnomalyMask': 'iVBORw0KGgo='}}),
    ('StartModel', {'Status': 'STARTING_HOSTING'}),
    ('DeleteDataset', {}),
    ('CreateProject', {'ProjectMetadata': {'ProjectArn': 'arn:aws:lookoutvision:local:000000000000:project/'
                                           'a-project-with-a-rather-long-name-to-force-the-vertical-table',
                                           'ProjectName': 'a-project-with-a-rather-long-name-to-force-the-vertical-table',
                                           'CreationTimestamp': T0}}),
]


class Args:
    query = None
    color = 'off'


FORMATTERS = {'json': JSONFormatter, 'text': TextFormatter, 'table': TableFormatter, 'yaml': YAMLFormatter}
with tempfile.TemporaryDirectory() as tmp:
    for i, (op, resp) in enumerate(RESPONSES):
        path = os.path.join(tmp, 'resp%d.json' % i)
        with open(path, 'w') as f:
            json.dump(resp, f)
        shape = MODEL.operation_model(op).output_shape
        for fmt, cls in FORMATTERS.items():
            ref = io.StringIO()
            cls(Args())(op, to_cli(shape, json.loads(json.dumps(resp))), ref)
            got = subprocess.run([UNITS, '--format', fmt, op, path], capture_output=True, text=True).stdout
            check(got == ref.getvalue(), '--output %s for %s:\n--- lookout\n%s--- aws\n%s' % (fmt, op, got, ref.getvalue()))

# ---- skeletons -----------------------------------------------------------------------------
EXT_YAML = re.compile(r'^  ImageFolder:.*\n    Path:.*\n', re.M)
for op in OPS:
    for kind in ('input', 'yaml-input'):
        rc_a, ref, _ = aws([op, '--generate-cli-skeleton', kind])
        rc_l, got, err = lookout([op, '--generate-cli-skeleton', kind])
        if op == 'create-dataset':  # lookout's ImageFolder extension is the one addition
            if kind == 'input':
                j = json.loads(got)
                check('ImageFolder' in j['DatasetSource'], 'ImageFolder in the create-dataset skeleton')
                j['DatasetSource'].pop('ImageFolder', None)
                got = json.dumps(j, indent=4) + '\n'
            else:
                check(EXT_YAML.search(got) is not None, 'ImageFolder in the yaml skeleton')
                got = EXT_YAML.sub('', got)
        check(rc_a == rc_l == 0 and got == ref, 'skeleton %s %s:\n--- lookout\n%s%s--- aws\n%s' % (op, kind, got, err, ref))

# ---- help: synopsis and options in the AWS man-page order ----------------------------------


def aws_help(op):
    p = subprocess.run(['/usr/bin/aws', 'lookoutvision', op, 'help'], capture_output=True, text=True,
                       env=dict(os.environ, PAGER='cat', MANPAGER='cat'))
    return re.sub('.\x08', '', p.stdout)


def member_options(text, section_start, section_end):
    body = text.split(section_start, 1)[1].split(section_end, 1)[0]
    body = body.split('--cli-input-json', 1)[0]
    return re.findall(r'^\s*\[?(--[a-z0-9-]+)', body, re.M)


with ThreadPoolExecutor(2) as pool:
    pages = dict(zip(OPS, pool.map(aws_help, OPS)))
for op in OPS:
    rc, mine, _ = lookout([op, 'help'])
    rc2, mine2, _ = lookout(['help', op])
    check(rc == 0 and rc2 == 0 and mine == mine2, 'help %s: both spellings print the page' % op)
    ref = pages[op]
    for sec, end in (('SYNOPSIS', 'OPTIONS'), ('OPTIONS', 'OUTPUT')):
        if 'SYNOPSIS' in ref:
            a = member_options(ref, sec, end)
        else:  # no man-page renderer here: the AWS CLI's order is the model's member order
            opm = MODEL.operation_model(''.join(w.capitalize() for w in op.split('-')))
            hidden = {'NextToken', 'MaxResults'} if op.startswith('list-') and op != 'list-tags-for-resource' else set()
            a = ['--' + re.sub(r'(?<!^)(?=[A-Z])', '-', m).lower() for m in opm.input_shape.members if m not in hidden]
        b = member_options(mine, sec, end)
        check(a == b, 'help %s %s order: lookout %s, aws %s' % (op, sec, b, a))

# ---- usage and validation errors: same text (aws -> lookout), same exit codes -------------
ERRORS = [
    ['create-model'],
    ['create-model', '--project-name', 'p', '--output-config', 'S3Location={Bucket=b'],
    ['create-model', '--project-name', 'p', '--output-config', 'S3Location={Bucket=b}'],
    ['create-model', '--project-name', '', '--output-config', '{"S3Location": {"Bucket": "bucket", "Foo": 1}}',
     '--tags', 'Key=k'],
    ['create-model', '--project-name', 'p', '--output-config', '{"S3Location": '],
    ['create-model', '--project-name', 'p', '--output-config', 'file:///nonexistent/oc.json'],
    ['create-project', '--project-name', 'p', '--bogus', 'x'],
    ['list-models', '--project-name', 'p', '--max-items', 'abc'],
    ['list-models', '--project-name', 'p', '--output', 'xml'],
    ['list-models', '--project-name', 'p', '--max-results', '0'],
    ['list-models', '--project-name', 'p', '--no-paginate', '--max-items', '3'],
    ['tag-resource', '--resource-arn', 'arn', '--tags', 'Key=a,Key=b'],
    ['update-dataset-entries', '--project-name', 'p', '--dataset-type', 'train', '--changes', 'a!b'],
    ['detect-anomalies', '--project-name', 'p', '--model-version', '1', '--body', '/nonexistent/x.png',
     '--content-type', 'image/png'],
    ['list-dataset-entries', '--project-name', 'p', '--dataset-type', 'train', '--before-creation-date', 'soon'],
    ['list-models', '--project-name', 'p', '--max-results', 'abc'],
]
for args in ERRORS:
    rc_a, _, err_a = aws(args)
    rc_l, _, err_l = lookout(args, env=dict(os.environ, LOOKOUT_HOME=tempfile.gettempdir() + '/lookout-ref-none'))
    norm = err_a.replace('usage: aws [options] <command> <subcommand> [<subcommand> ...] [parameters]',
                         'usage: lookout [options] <command> [parameters]')
    norm = norm.replace('  aws help\n  aws <command> help\n  aws <command> <subcommand> help\n',
                        '  lookout help\n  lookout <command> help\n').replace('aws: error:', 'lookout: error:')
    check(rc_a == rc_l and rc_l in (252, 255), 'exit codes for %s: aws %d lookout %d' % (args, rc_a, rc_l))
    if '--output' in args and 'xml' in args:  # aws also offers yaml-stream; lookout does not
        check('argument --output: Invalid choice' in err_l, 'invalid --output choice: %s' % err_l)
        continue
    if 'Invalid JSON' in norm or 'timestamp' in norm:  # Python's json/dateutil wording differs; the frame must not
        check(norm.split(':', 1)[0] == err_l.split(':', 1)[0], 'error frame for %s:\n%s\n%s' % (args, err_l, norm))
        continue
    check(err_l == norm, 'stderr for %s:\n--- lookout\n%s--- aws\n%s' % (args, err_l, norm))

print('%d passed, %d failed' % (checks - len(failures), len(failures)))
sys.exit(1 if failures else 0)
