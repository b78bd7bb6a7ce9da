#!/bin/sh
# A scenario's HTML report in a real browser (Debian's headless chromium):
# the page's own check must find every chart drawn (a box and series with
# an extent) and a failure mark for the failure on the timeline; the JSON
# must parse and hold the same run; a screenshot must come out.
#   test_report_browser.sh MEMVISOR SOURCE_DIR
set -u
memvisor=$1 src=$2
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
browser=$(command -v chromium || command -v chromium-browser) ||
    { echo "no chromium (scripts/install-deps.sh installs it)"; exit 1; }
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
# Chromium wants a writable home for its profile.
export HOME=$dir
chrome() { "$browser" --headless --no-sandbox --disable-gpu --no-first-run "$@" 2>/dev/null; }

cat >"$dir/small.cfg" <<'CFG'
name = "small"
type = "hvm"
memory = 96
maxmem = 96
guest_working_set = 16
CFG
# Two guests and one event that must fail (s2 is never created).
cat >"$dir/report.scn" <<'SCN'
title    Report check
host     memory=512M
time     second=50ms duration=20 sample=0.5
guest s  config=small.cfg count=2
at 0     create s1
at 5     mem-set s2 64
at 10    mem-set s1 64
at 14    list
SCN
"$memvisor" run --quiet --out "$dir" "$dir/report.scn" >"$dir/summary" ||
    fail "memvisor run: $(cat "$dir/summary")"
grep -q "failures on the timeline: 1" "$dir/summary" || fail "summary: $(cat "$dir/summary")"

chrome --dump-dom "file://$dir/report.html" >"$dir/dom.html" || fail "chromium --dump-dom"
verdict=$(grep -o '<p id="selfcheck"[^<]*' "$dir/dom.html")
echo "$verdict" | grep -q 'data-ok="1"' || fail "the page's check: $verdict"
echo "$verdict" | grep -q 'charts drawn: 3 of 3' || fail "charts: $verdict"
# The memory chart marks the failure, and so does s2's own chart.
echo "$verdict" | grep -q 'failure marks: 2' || fail "failure marks: $verdict"

python3 - "$dir/report.json" <<'PY' || fail "the JSON"
import json, sys
d = json.load(open(sys.argv[1]))
n = len(d["t"])
assert n >= 30, n
for band in ("free", "claimed", "tmem", "pod_cache", "other"):
    assert len(d[band]) == n, band
assert [x["name"] for x in d["domains"]] == ["s1", "s2"], d["domains"]
assert all(len(x["held"]) == n and len(x["target"]) == n for x in d["domains"])
assert d["counts"]["ok"] == 3 and d["counts"]["failed"] == 1, d["counts"]
assert len(d["failures"]) == 1 and "s2" in d["failures"][0]["what"], d["failures"]
assert any(e["verb"] == "list" and "s1" in e["output"] for e in d["events"])
# s1 held its memory once built: 96 MiB less video and the correction.
assert max(d["domains"][0]["held"]) > 70 * 256, max(d["domains"][0]["held"])
PY

chrome --screenshot="$dir/shot.png" --window-size=1100,1400 "file://$dir/report.html" ||
    fail "chromium --screenshot"
[ "$(head -c 8 "$dir/shot.png" | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ] ||
    fail "the screenshot is not a PNG"
[ "$(wc -c <"$dir/shot.png")" -gt 20000 ] || fail "the screenshot is nearly empty"

echo "report in a browser: $failures failures"
[ $failures -eq 0 ]
