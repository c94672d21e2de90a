#!/usr/bin/python3
"""Generates engine/cli/cli_operations.c, the lookout CLI's command table, from the Lookout for
Vision service model botocore ships (lookoutvision/2020-11-20). Run it with /usr/bin/python3 when the
model or the rendering changes and commit the output: the binary never needs Python or botocore.

    /usr/bin/python3 engine/cli/gen_operations.py [MODEL_DIR] > engine/cli/cli_operations.c

What it emits: every shape reachable from the operations of DESIGN.md §2 (type, min/max, enum,
members with required flag and first-sentence documentation), the operations (API name, kebab-case
command, input/output shape, paginator) and, per command, the rendered `lookout <command> help` page
(NAME, DESCRIPTION, SYNOPSIS and OPTIONS in the AWS man-page order, OUTPUT).
"""
import html.parser
import json
import os
import re
import sys
import textwrap

MODEL_DIR = '/usr/lib/python3/dist-packages/botocore/data/lookoutvision/2020-11-20'

# DESIGN.md §2, in its order (the order of `lookout help`).
OPERATIONS = [
    'CreateProject', 'DescribeProject', 'ListProjects', 'DeleteProject',
    'CreateDataset', 'DescribeDataset', 'ListDatasetEntries', 'UpdateDatasetEntries',
    'DeleteDataset', 'CreateModel', 'DescribeModel', 'ListModels', 'DeleteModel',
    'StartModel', 'StopModel', 'DetectAnomalies', 'TagResource', 'UntagResource',
    'ListTagsForResource',
]

# Global options lookout understands, in the order the AWS man page lists them.
GLOBAL_OPTIONS = ['[--cli-input-json | --cli-input-yaml]', '[--generate-cli-skeleton <value>]',
                  '[--no-paginate]', '[--output <value>]']


def xform_name(name):
    """CamelCase -> kebab-case exactly as botocore.xform_name(name, '-') does."""
    s1 = re.sub('(.)([A-Z][a-z]+)', r'\1-\2', name)
    s1 = re.sub('([a-z0-9])([A-Z])', r'\1-\2', s1)
    # botocore special-cases trailing plurals of acronyms (ARNs -> arns); none occur here.
    return s1.lower()


class _Text(html.parser.HTMLParser):
    """Botocore documentation HTML -> list of paragraphs (bullets prefixed with '* ')."""

    def __init__(self):
        super().__init__()
        self.paras, self.cur, self.in_li = [], [], False

    def _flush(self):
        t = re.sub(r'\s+', ' ', ''.join(self.cur)).strip()
        if t:
            self.paras.append(('* ' + t) if self.in_li else t)
        self.cur = []

    def handle_starttag(self, tag, attrs):
        if tag in ('p', 'li', 'ul', 'ol', 'br'):
            self._flush()
        if tag == 'li':
            self.in_li = True

    def handle_endtag(self, tag):
        if tag in ('p', 'li', 'ul', 'ol'):
            self._flush()
        if tag == 'li':
            self.in_li = False

    def handle_data(self, data):
        self.cur.append(data)

    def close(self):
        super().close()
        self._flush()


def doc_paragraphs(doc):
    p = _Text()
    p.feed(doc or '')
    p.close()
    return p.paras


def doc_overview(doc):
    """First sentence, as awscli's get_shape_doc_overview (used by yaml-input comments)."""
    text = ' '.join(doc_paragraphs(doc))
    m = re.match(r'(.*?\.)(\s|$)', text, re.S)
    first = m.group(1) if m else text
    return re.sub(r'\s+', ' ', first).strip()


def c_str(s):
    """C string literal; long strings split into adjacent literals between escape tokens."""
    if s is None:
        return 'NULL'
    toks = []
    for ch in s:
        o = ord(ch)
        if ch == '\\':
            toks.append('\\\\')
        elif ch == '"':
            toks.append('\\"')
        elif ch == '\n':
            toks.append('\\n')
        elif ch == '\t':
            toks.append('\\t')
        elif o < 0x20:
            toks.append('\\%03o' % o)
        elif o < 0x80:
            toks.append(ch)
        else:
            toks.extend('\\%03o' % b for b in ch.encode('utf-8'))
    parts, cur, n = [], [], 0
    for t in toks:
        cur.append(t)
        n += len(t)
        if n >= 100 or t == '\\n':
            parts.append(''.join(cur))
            cur, n = [], 0
    if cur or not parts:
        parts.append(''.join(cur))
    return '\n    '.join('"%s"' % p for p in parts)


def extend_model(svc):
    """lookout's additions to the service model. An extension operation (create-key, batch-detect,
    ...) is its shapes and an `operations` entry added here plus its name in OPERATIONS: the CLI
    then parses, validates, documents and prints it like any Lookout for Vision operation."""
    shapes = svc['shapes']
    # lookout's extension (DESIGN.md §4): DatasetSource={ImageFolder={Path=DIR}}.
    shapes['DatasetImageFolder'] = {
        'type': 'structure', 'required': ['Path'],
        'members': {'Path': {'shape': 'LocalFolderPath', 'documentation':
                             '<p>A local folder holding <code>normal/</code> and <code>anomaly/</code> '
                             'images and, optionally, <code>mask/&lt;stem&gt;.png</code> masks. '
                             'A lookout extension.</p>'}},
        'documentation': '<p>A local image folder to import (lookout extension).</p>'}
    shapes['LocalFolderPath'] = {'type': 'string', 'min': 1, 'max': 4096}
    shapes['DatasetSource']['members']['ImageFolder'] = {
        'shape': 'DatasetImageFolder',
        'documentation': '<p>A local folder of images to import: <code>normal/</code>, '
                         '<code>anomaly/</code> and optional <code>mask/</code> (lookout extension).</p>'}


def main():
    model_dir = sys.argv[1] if len(sys.argv) > 1 else MODEL_DIR
    svc = json.load(open(os.path.join(model_dir, 'service-2.json')))
    pag = json.load(open(os.path.join(model_dir, 'paginators-1.json')))['pagination']
    shapes = svc['shapes']

    extend_model(svc)
    shapes = svc['shapes']

    order = []
    index = {}

    def visit(name):
        if name in index:
            return index[name]
        index[name] = len(order)
        order.append(name)
        sh = shapes[name]
        for m in sh.get('members', {}).values():
            visit(m['shape'])
        for k in ('member', 'key', 'value'):
            if k in sh:
                visit(sh[k]['shape'])
        return index[name]

    for op in OPERATIONS:
        o = svc['operations'][op]
        if 'input' in o:
            visit(o['input']['shape'])
        if 'output' in o:
            visit(o['output']['shape'])

    out = []
    w = out.append
    w('/* GENERATED by engine/cli/gen_operations.py from botocore lookoutvision/2020-11-20 — do not edit.')
    w(' * Regenerate: /usr/bin/python3 engine/cli/gen_operations.py > engine/cli/cli_operations.c */')
    w('#include "cli_model.h"')
    w('#include <stddef.h>')
    w('')
    w('#define N_ELEMS(a) (int)(sizeof(a) / sizeof((a)[0]))')
    w('')
    # enums and members per shape
    for i, name in enumerate(order):
        sh = shapes[name]
        if 'enum' in sh:
            w('static const char *const enum_%d[] = {%s};' % (i, ', '.join(c_str(e) for e in sh['enum'])))
        if sh['type'] == 'structure':
            req = set(sh.get('required', []))
            rows = []
            for mname, m in sh['members'].items():
                flags = []
                if mname in req:
                    flags.append('LO_CLI_REQUIRED')
                if m.get('idempotencyToken'):
                    flags.append('LO_CLI_IDEMPOTENCY')
                rows.append('    {%s, %s, %d, %s, %s},' % (
                    c_str(mname), c_str(xform_name(mname)), index[m['shape']],
                    ' | '.join(flags) or '0', c_str(doc_overview(m.get('documentation', '')))))
            w('static const lo_cli_member members_%d[] = {' % i)
            out.extend(rows)
            w('};')
    w('')
    w('const lo_cli_shape lo_cli_shapes[] = {')
    types = {'string': 'LO_CLI_STRING', 'integer': 'LO_CLI_INTEGER', 'long': 'LO_CLI_INTEGER',
             'boolean': 'LO_CLI_BOOLEAN', 'float': 'LO_CLI_FLOAT', 'double': 'LO_CLI_FLOAT',
             'timestamp': 'LO_CLI_TIMESTAMP', 'blob': 'LO_CLI_BLOB', 'structure': 'LO_CLI_STRUCTURE',
             'list': 'LO_CLI_LIST', 'map': 'LO_CLI_MAP'}
    for i, name in enumerate(order):
        sh = shapes[name]
        t = sh['type']
        fields = [c_str(name), types[t]]
        fields.append('1' if 'min' in sh else '0')
        fields.append(str(int(sh.get('min', 0))))
        fields.append('1' if sh.get('streaming') else '0')
        fields.append('enum_%d' % i if 'enum' in sh else 'NULL')
        fields.append('N_ELEMS(enum_%d)' % i if 'enum' in sh else '0')
        fields.append('members_%d' % i if t == 'structure' else 'NULL')
        fields.append('N_ELEMS(members_%d)' % i if t == 'structure' else '0')
        fields.append(str(index[sh['member']['shape']]) if t == 'list' else '-1')
        fields.append(str(index[sh['key']['shape']]) if t == 'map' else '-1')
        fields.append(str(index[sh['value']['shape']]) if t == 'map' else '-1')
        w('    {%s},' % ', '.join(fields))
    w('};')
    w('const int lo_cli_n_shapes = N_ELEMS(lo_cli_shapes);')
    w('')

    # help pages
    for k, op in enumerate(OPERATIONS):
        w('static const char help_%d[] =' % k)
        w('    %s;' % c_str(render_help(svc, shapes, op, pag.get(op))))
    w('')
    w('const lo_cli_operation lo_cli_operations[] = {')
    for k, op in enumerate(OPERATIONS):
        o = svc['operations'][op]
        p = pag.get(op)
        summary = doc_overview(o.get('documentation', ''))
        w('    {%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, help_%d},' % (
            c_str(op), c_str(xform_name(op)),
            str(index[o['input']['shape']]) if 'input' in o else '-1',
            str(index[o['output']['shape']]) if 'output' in o else '-1',
            c_str(p['input_token']) if p else 'NULL', c_str(p['output_token']) if p else 'NULL',
            c_str(p['limit_key']) if p else 'NULL', c_str(p['result_key']) if p else 'NULL',
            c_str(summary), c_str(o['http']['method']), k))
    w('};')
    w('const int lo_cli_n_operations = N_ELEMS(lo_cli_operations);')
    sys.stdout.write('\n'.join(out) + '\n')


def wrap(text, indent, width=79):
    return textwrap.fill(text, width=width, initial_indent=' ' * indent,
                         subsequent_indent=' ' * indent, break_on_hyphens=False,
                         break_long_words=False)


def type_label(shapes, name):
    return shapes[name]['type']


def shorthand_example(shapes, name, depth=0):
    """The 'Shorthand Syntax' line awscli prints (None where shorthand does not apply)."""
    sh = shapes[name]
    if sh['type'] == 'structure':
        parts = []
        for mname, m in sh['members'].items():
            ms = shapes[m['shape']]
            if ms['type'] == 'structure':
                parts.append('%s={%s}' % (mname, shorthand_example(shapes, m['shape'], depth + 1)))
            elif ms['type'] == 'list':
                inner = shapes[ms['member']['shape']]
                if inner['type'] == 'structure':
                    parts.append('%s=[{%s},{%s}]' % (mname, shorthand_example(shapes, ms['member']['shape'], depth + 1),
                                                     shorthand_example(shapes, ms['member']['shape'], depth + 1)))
                else:
                    parts.append('%s=%s,%s' % (mname, inner['type'], inner['type']))
            else:
                parts.append('%s=%s' % (mname, ms['type']))
        return ','.join(parts)
    if sh['type'] == 'list':
        inner = shapes[sh['member']['shape']]
        if inner['type'] == 'structure':
            return shorthand_example(shapes, sh['member']['shape'], depth + 1) + ' ...'
        return None
    if sh['type'] == 'map':
        return 'KeyName1=string,KeyName2=string'
    return None


def json_example(shapes, name, indent):
    sh = shapes[name]
    pad = ' ' * indent
    if sh['type'] == 'structure':
        lines = ['{']
        items = list(sh['members'].items())
        for j, (mname, m) in enumerate(items):
            val = json_example(shapes, m['shape'], indent + 2)
            lines.append('%s  "%s": %s%s' % (pad, mname, val, ',' if j + 1 < len(items) else ''))
        lines.append(pad + '}')
        return '\n'.join(lines)
    if sh['type'] == 'list':
        return '[\n%s  %s\n%s  ...\n%s]' % (pad, json_example(shapes, sh['member']['shape'], indent + 2), pad, pad)
    if sh['type'] == 'map':
        return '{"string": %s\n%s  ...}' % (json_example(shapes, sh['value']['shape'], indent + 2), pad)
    if 'enum' in sh:
        return '"' + '"|"'.join(sh['enum']) + '"'
    return {'string': '"string"', 'integer': 'integer', 'long': 'long', 'boolean': 'true|false',
            'float': 'float', 'double': 'double', 'timestamp': 'timestamp', 'blob': 'blob'}[sh['type']]


def member_tree(shapes, name, indent, lines, seen):
    sh = shapes[name]
    if name in seen:
        return
    seen = seen | {name}
    if sh['type'] == 'structure':
        for mname, m in sh['members'].items():
            ms = shapes[m['shape']]
            lines.append(' ' * indent + '%s -> (%s)' % (mname, ms['type']))
            for p in doc_paragraphs(m.get('documentation', '')):
                lines.append(wrap(p, indent + 3))
                lines.append('')
            if ms['type'] in ('structure', 'list', 'map'):
                member_tree(shapes, m['shape'], indent + 3, lines, seen)
    elif sh['type'] == 'list':
        ms = shapes[sh['member']['shape']]
        lines.append(' ' * indent + '(%s)' % ms['type'])
        for p in doc_paragraphs(ms.get('documentation', '')):
            lines.append(wrap(p, indent + 3))
        lines.append('')
        if ms['type'] in ('structure', 'list', 'map'):
            member_tree(shapes, sh['member']['shape'], indent + 3, lines, seen)


def render_help(svc, shapes, op, paginator):
    o = svc['operations'][op]
    cmd = xform_name(op)
    L = []
    L.append('NAME')
    L.append('       %s -' % cmd)
    L.append('')
    L.append('DESCRIPTION')
    for p in doc_paragraphs(o.get('documentation', '')):
        L.append(wrap(p, 7))
        L.append('')
    if paginator:
        L.append(wrap('%s is a paginated operation. Multiple API calls may be issued in order to '
                      'retrieve the entire data set of results. You can disable pagination by '
                      'providing the --no-paginate argument. When using --output text and the '
                      '--query argument on a paginated response, the --query argument must extract '
                      'data from the results of the following query expressions: %s'
                      % (cmd, paginator['result_key']), 7))
        L.append('')
    L.append('SYNOPSIS')
    L.append('            %s' % cmd)
    in_shape = shapes[o['input']['shape']] if 'input' in o else {'members': {}}
    req = set(in_shape.get('required', []))
    hidden = set()
    if paginator:
        hidden = {paginator['input_token'], paginator['limit_key']}
    for mname, m in in_shape['members'].items():
        if mname in hidden:
            continue
        opt = '--%s <value>' % xform_name(mname)
        if shapes[m['shape']]['type'] == 'boolean':
            opt = '--%s | --no-%s' % (xform_name(mname), xform_name(mname))
        L.append('          ' + (opt if mname in req else '[%s]' % opt))
    syn = list(GLOBAL_OPTIONS)
    if paginator:
        syn += ['[--starting-token <value>]', '[--page-size <value>]', '[--max-items <value>]']
    for g in syn:
        L.append('          ' + g)
    L.append('')
    L.append('OPTIONS')
    for mname, m in in_shape['members'].items():
        if mname in hidden:
            continue
        ms = shapes[m['shape']]
        if ms['type'] == 'boolean':
            L.append('       --%s | --no-%s (boolean)' % (xform_name(mname), xform_name(mname)))
        elif ms['type'] == 'blob' and ms.get('streaming'):
            L.append('       --%s (streaming blob)' % xform_name(mname))
        else:
            L.append('       --%s (%s)' % (xform_name(mname), ms['type']))
        for p in doc_paragraphs(m.get('documentation', '')):
            L.append(wrap(p, 10))
            L.append('')
        if ms['type'] == 'blob' and ms.get('streaming'):
            L.append(wrap('This argument is of type: streaming blob. Its value must be the path '
                          'to a file (e.g. path/to/file) and must not be prefixed with file:// '
                          'or fileb://', 10))
            L.append('')
        if 'enum' in ms:
            L.append('          Possible values:')
            L.append('')
            for e in ms['enum']:
                L.append('          o %s' % e)
                L.append('')
        if ms['type'] in ('structure', 'list', 'map'):
            sub = []
            member_tree(shapes, m['shape'], 10, sub, set())
            L.extend(sub)
            sh_ex = shorthand_example(shapes, m['shape'])
            if sh_ex:
                L.append('       Shorthand Syntax:')
                L.append('')
                L.append('          ' + sh_ex)
                L.append('')
            L.append('       JSON Syntax:')
            L.append('')
            for line in json_example(shapes, m['shape'], 0).split('\n'):
                L.append('          ' + line)
            L.append('')
    L.append(wrap('--cli-input-json | --cli-input-yaml (string) Reads arguments from the JSON '
                  'string provided. The JSON string follows the format provided by '
                  '--generate-cli-skeleton. If other arguments are provided on the command line, '
                  'those values will override the JSON-provided values. The value may be given '
                  'inline or as file://path. --cli-input-yaml reads YAML the same way.', 7))
    L.append('')
    L.append(wrap('--generate-cli-skeleton (string) Prints a JSON skeleton to standard output '
                  'without running the operation. If provided with no value or the value input, '
                  'prints a sample input JSON that can be used as an argument for '
                  '--cli-input-json. Similarly, if provided yaml-input it will print a sample '
                  'input YAML that can be used with --cli-input-yaml. If provided with the value '
                  'output, it validates the command inputs and returns a sample output JSON for '
                  'that command.', 7))
    L.append('')
    if paginator:
        for name, text in (
                ('--starting-token (string)', 'A token to specify where to start paginating. '
                 'This is the NextToken from a previously truncated response.'),
                ('--page-size (integer)', 'The size of each page to get in the service call. '
                 'This does not affect the number of items returned in the command\'s output.'),
                ('--max-items (integer)', 'The total number of items to return in the command\'s '
                 'output. If the total number of items available is more than the value '
                 'specified, a NextToken is provided in the command\'s output. To resume '
                 'pagination, provide the NextToken value in the starting-token argument of a '
                 'subsequent command.')):
            L.append('       ' + name)
            L.append(wrap(text, 10))
            L.append('')
        L.append('       --no-paginate (boolean)')
        L.append(wrap('Disable automatic pagination: one call to the service, its NextToken '
                      'shown as is.', 10))
        L.append('')
    L.append('       --output (string)')
    L.append(wrap('The formatting style for command output: json (default), text, table, yaml.', 10))
    L.append('')
    if 'output' in o:
        L.append('OUTPUT')
        out_shape = shapes[o['output']['shape']]
        if not out_shape['members']:
            L.append('       None')
            L.append('')
        for mname, m in out_shape['members'].items():
            ms = shapes[m['shape']]
            L.append('       %s -> (%s)' % (mname, ms['type']))
            for p in doc_paragraphs(m.get('documentation', '')):
                L.append(wrap(p, 10))
                L.append('')
            if ms['type'] in ('structure', 'list', 'map'):
                sub = []
                member_tree(shapes, m['shape'], 10, sub, set())
                L.extend(sub)
    return '\n'.join(L).rstrip('\n') + '\n'


if __name__ == '__main__':
    main()
