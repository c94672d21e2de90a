#!/bin/sh
# render_report.sh — renders an evaluation report in headless Chromium and checks the screenshot.
#
#   tests/eval/render_report.sh REPORT.html OUT.png [WIDTHxHEIGHT]
#
# Proves the report opens in a real browser with no network: Chromium runs with every background
# fetch disabled and a fresh profile, writes OUT.png, and the script checks that the PNG exists, has
# the asked size and is not one flat colour (a blank page). Needs Debian's `chromium` (listed in the
# Makefile's PKGS_TEST); exits 77 (ctest's "skipped") when it is not installed.
set -eu
report=${1:?usage: render_report.sh REPORT.html OUT.png [WIDTHxHEIGHT]}
out=${2:?usage: render_report.sh REPORT.html OUT.png [WIDTHxHEIGHT]}
size=${3:-1280x2400}
browser=$(command -v chromium || command -v chromium-browser || true)
if [ -z "$browser" ]; then
    echo "render_report.sh: chromium not installed (apt-get install chromium); skipping" >&2
    exit 77
fi
[ -f "$report" ] || { echo "render_report.sh: no such report: $report" >&2; exit 1; }
profile=$(mktemp -d)
trap 'rm -rf "$profile"' EXIT
rm -f "$out"
abs=$(cd "$(dirname "$report")" && pwd)/$(basename "$report")
out_abs=$(cd "$(dirname "$out")" && pwd)/$(basename "$out")
w=${size%x*}
h=${size#*x}
# --screenshot writes the file and exits; timeout guards a hung browser.
timeout 120 "$browser" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
    --disable-background-networking --disable-component-update --disable-sync \
    --user-data-dir="$profile" --hide-scrollbars --window-size="$w,$h" \
    --screenshot="$out_abs" "file://$abs" >"$profile/log" 2>&1 || {
    echo "render_report.sh: chromium failed:" >&2
    tail -20 "$profile/log" >&2
    exit 1
}
[ -s "$out_abs" ] || { echo "render_report.sh: chromium wrote no screenshot" >&2; tail -20 "$profile/log" >&2; exit 1; }
/usr/bin/python3 - "$out_abs" "$w" "$h" <<'PY'
import struct, sys, zlib
path, w, h = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
data = open(path, "rb").read()
if data[:8] != b"\x89PNG\r\n\x1a\n":
    sys.exit(f"render_report.sh: {path} is not a PNG")
pw, ph, depth, ctype = struct.unpack(">IIBB", data[16:26])
if (pw, ph) != (w, h):
    sys.exit(f"render_report.sh: screenshot is {pw}x{ph}, asked {w}x{h}")
# Decompress the image data and count distinct bytes: a blank page is nearly one value.
idat, pos = b"", 8
while pos < len(data):
    n, kind = struct.unpack(">I4s", data[pos:pos + 8])
    if kind == b"IDAT":
        idat += data[pos + 8:pos + 8 + n]
    pos += 12 + n
raw = zlib.decompress(idat)
distinct = len(set(raw[::7]))
if distinct < 20:
    sys.exit(f"render_report.sh: screenshot looks blank ({distinct} distinct byte values)")
print(f"render_report.sh: {path} {pw}x{ph}, {distinct} distinct byte values")
PY
