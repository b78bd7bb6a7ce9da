#!/bin/sh
# Xen's real xenstore clients against memvisor's xenstore at
# $XENSTORED_PATH: Debian's xenstore-utils (read, write, ls -p, list,
# exists, rm, chmod, watch), Debian's prebuilt test-xenstore (every test,
# 100 iterations), the independent Python client pyxs, and
# xenstore-control.
#   test_xs_clients.sh XEN_UTILS_ROOT
set -u
xroot=$1
here=$(cd "$(dirname "$0")" && pwd)
bin=$xroot/usr/lib/xen-4.17/bin
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
expect() { # expect WHAT WANT GOT
    [ "$2" = "$3" ] || fail "$1: wanted [$2], got [$3]"
}

[ -n "${XENSTORED_PATH:-}" ] || { echo "XENSTORED_PATH is not set"; exit 1; }
for t in xenstore-read xenstore-write xenstore-ls xenstore-list xenstore-exists xenstore-rm \
         xenstore-chmod xenstore-watch; do
    command -v $t >/dev/null || { echo "$t missing (xenstore-utils)"; exit 1; }
done
[ -x "$bin/test-xenstore" ] || { echo "no test-xenstore in $bin (scripts/fetch-xen-utils.sh)"; exit 1; }
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

# write (several pairs: one transaction), read, exists, list.
xenstore-write /xs/a 1 /xs/b "two words" /xs/c/d deep || fail "xenstore-write"
expect "read /xs/a" 1 "$(xenstore-read /xs/a)"
expect "read /xs/b" "two words" "$(xenstore-read /xs/b)"
expect "read /xs/c" "" "$(xenstore-read /xs/c)"
xenstore-exists /xs/c/d || fail "exists /xs/c/d"
xenstore-exists /xs/nope && fail "exists /xs/nope"
expect "list /xs" "a b c" "$(xenstore-list /xs | tr '\n' ' ' | sed 's/ $//')"
xenstore-read /xs/nope 2>"$out/err" && fail "read of a missing node succeeded"
grep -q "couldn't read path /xs/nope" "$out/err" || fail "read error: $(cat "$out/err")"

# Relative paths are under /local/domain/0, the socket client's home.
xenstore-write rel/x 5 || fail "relative write"
expect "relative read" 5 "$(xenstore-read /local/domain/0/rel/x)"

# chmod, and ls -p showing it.
xenstore-chmod /xs/a b0 || fail "chmod"
xenstore-chmod /xs/b n0 r0 || fail "chmod two entries"
xenstore-ls -p /xs >"$out/ls"
grep -q '^a = "1" .*(b0)$' "$out/ls" || fail "ls -p a: $(cat "$out/ls")"
grep -q '^b = "two words" .*(n0,r0)$' "$out/ls" || fail "ls -p b: $(cat "$out/ls")"
grep -q '^ d = "deep" .*(n0)$' "$out/ls" || fail "ls -p d: $(cat "$out/ls")"
xenstore-chmod /xs/a x9 2>/dev/null && fail "chmod with a bad permission succeeded"

# rm: a subtree; a missing node under an existing parent is fine; a
# missing parent is not.
xenstore-rm /xs/c || fail "rm /xs/c"
xenstore-exists /xs/c/d && fail "rm left /xs/c/d"
xenstore-rm /xs/c 2>/dev/null || fail "rm of a missing node"
xenstore-rm /xs/c/d 2>/dev/null && fail "rm under a missing parent succeeded"

# watch: the first event, then the changes.
timeout 10 xenstore-watch -n 3 /xs/w >"$out/watch" 2>&1 &
wpid=$!
i=0
while [ ! -s "$out/watch" ] && [ $i -lt 600 ]; do sleep 0.05; i=$((i + 1)); done
xenstore-write /xs/w/k v || fail "write under a watch"
xenstore-rm /xs/w || fail "rm under a watch"
wait $wpid || fail "xenstore-watch exited with $?"
expect "watch events" "/xs/w /xs/w/k /xs/w" "$(tr '\n' ' ' <"$out/watch" | sed 's/ $//')"

# A directory too big for one reply: xenstore-list falls back to
# DIRECTORY_PART and gets every name, in creation order.
args=""
for i in $(seq 1 400); do args="$args /xs/big/a-rather-long-child-name-$i $i"; done
# shellcheck disable=SC2086
xenstore-write $args || fail "write 400 children"
xenstore-list /xs/big >"$out/list"
expect "big list count" 400 "$(wc -l <"$out/list")"
expect "big list order" "a-rather-long-child-name-1 a-rather-long-child-name-400" \
    "$(sed -n '1p;$p' "$out/list" | tr '\n' ' ' | sed 's/ $//')"
[ "$(xenstore-list /xs/big | wc -c)" -gt 4096 ] || fail "the big list is not over 4096 bytes"

# Debian's test-xenstore: every test, 100 iterations.
if "$bin/test-xenstore" -i 100 >"$out/test" 2>&1; then
    grep -c "avg:" "$out/test" | grep -q 12 || fail "test-xenstore ran $(grep -c "avg:" "$out/test") tests"
else
    fail "test-xenstore: $(tail -5 "$out/test")"
fi

# pyxs, with its non-zero request ids.
/usr/bin/python3 "$here/pyxs_check.py" >"$out/pyxs" 2>&1 || fail "pyxs: $(cat "$out/pyxs")"

# xenstore-control: help, quota, memreport, check.
ctl=$bin/xenstore-control
"$ctl" help >"$out/ctl" 2>&1 || fail "xenstore-control help"
grep -q "memreport" "$out/ctl" || fail "help: $(cat "$out/ctl")"
"$ctl" quota >"$out/ctl" 2>&1 || fail "xenstore-control quota"
grep -q "^nodes            :     1000 Nodes per domain$" "$out/ctl" || fail "quota: $(cat "$out/ctl")"
expect "quota set" OK "$("$ctl" quota set transactions 20 2>&1)"
"$ctl" quota | grep -q "^transactions     :       20 " || fail "quota not set"
"$ctl" quota 0 | grep -q "^nodes           : " || fail "quota 0: $("$ctl" quota 0)"
"$ctl" memreport >"$out/ctl" 2>&1 || fail "xenstore-control memreport"
grep -q "nodes" "$out/ctl" || fail "memreport: $(cat "$out/ctl")"
"$ctl" check >"$out/ctl" 2>&1 || fail "xenstore-control check"
expect "check" OK "$(cat "$out/ctl")"
"$ctl" frobnicate >/dev/null 2>&1 && fail "xenstore-control accepted an unknown command"

xenstore-rm /xs || fail "rm /xs"
echo "xenstore clients: $failures failures"
[ $failures -eq 0 ]
