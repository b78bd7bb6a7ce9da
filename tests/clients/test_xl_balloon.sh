#!/bin/sh
# Debian's real xl mem-set and mem-max on a running guest model in
# memvisord: `memvisor create` builds two guests from an xl.cfg (Xen's
# libxlutil parses it) and boots their models; xl mem-set moves one, the
# guest's balloon follows (its agent's data/meminfo_total shows it), and
# xenstore-ls shows the keys libxl expects.  memvisor's own mem-set on the
# other guest must agree with xl's to the KiB.
#   test_xl_balloon.sh MEMVISORD MEMVISOR LIBDIR XEN_UTILS_ROOT
. "$(dirname "$0")/xl_support.sh"
# libxl keeps its record of each domain in /var/lib/xen (compiled in).
mkdir -p /var/lib/xen || { echo "cannot make /var/lib/xen (libxl's records): run as root"; exit 1; }

cleanup() {
    [ -n "${dpid:-}" ] && kill -TERM "$dpid" 2>/dev/null && wait "$dpid"
    rm -f /var/lib/xen/userdata-?.*."${stamp:-none}"*
    rm -rf "$dir"
}
trap cleanup EXIT
start_memvisord --ram 1G

# Fixed UUIDs (so cleanup finds libxl's records): memory 128 MiB, maxmem 256,
# 8 MiB of video (cirrus): PoD.
stamp=7e57ba11
for n in 1 2; do
    cat >"$dir/vm$n.cfg" <<CFG
# a guest booted ballooned
name = "vm$n"
type = "hvm"
memory = 128
maxmem = 256
vcpus = 2
uuid = "$stamp-0000-4000-8000-00000000000$n"
guest_working_set = 32
CFG
done
d1=$("$memvisor" create --userdata /var/lib/xen "$dir/vm1.cfg") || fail "create vm1"
d2=$("$memvisor" create --userdata /var/lib/xen "$dir/vm2.cfg") || fail "create vm2"
key() { xenstore-read "/local/domain/$1/$2" 2>/dev/null; }
# Waits until a key has a value (10 s).
await() {
    i=0
    while [ "$(key "$1" "$2")" != "$3" ] && [ $i -lt 1200 ]; do sleep 0.05; i=$((i + 1)); done
    [ "$(key "$1" "$2")" = "$3" ] || fail "d$1 $2: $(key "$1" "$2"), not $3"
}

# At build: libxl's keys; static-max M, target T - V - 1024 (PoD), videoram.
[ "$(key "$d1" memory/static-max)" = 262144 ] || fail "static-max $(key "$d1" memory/static-max)"
[ "$(key "$d1" memory/target)" = 121856 ] || fail "target $(key "$d1" memory/target)"
[ "$(key "$d1" memory/videoram)" = 8192 ] || fail "videoram $(key "$d1" memory/videoram)"
# The guest booted, offered its balloon and followed the target: Linux's
# correction takes static-max less its RAM (video + the VGA hole, 8320 KiB).
await "$d1" control/feature-balloon 1
await "$d1" data/meminfo_total $((121856 - 8320))

# xl mem-set 200m: target 200 MiB - videoram; /vm/<uuid>/memory in MiB.
$XL mem-set vm1 200m 2>"$dir/memset.err" || fail "xl mem-set: $(cat "$dir/memset.err")"
[ "$(key "$d1" memory/target)" = 196608 ] || fail "after mem-set: target $(key "$d1" memory/target)"
[ "$(xenstore-read "/vm/$stamp-0000-4000-8000-000000000001/memory")" = 192 ] ||
    fail "/vm/<uuid>/memory: $(xenstore-read "/vm/$stamp-0000-4000-8000-000000000001/memory")"
await "$d1" data/meminfo_total $((196608 - 8320))
# ... and memvisor's mem-set on vm2 writes the same.
"$memvisor" mem-set vm2 200m || fail "memvisor mem-set"
[ "$(key "$d2" memory/target)" = 196608 ] || fail "memvisor mem-set: target $(key "$d2" memory/target)"
[ "$(xenstore-read "/vm/$stamp-0000-4000-8000-000000000002/memory")" = 192 ] || fail "vm2 /vm memory"
await "$d2" data/meminfo_total $((196608 - 8320))
# Xen's view agrees too: both have max_pages (200 MiB + 1024 KiB) / 4.
$XL list >"$dir/list" 2>/dev/null
row() { awk -v n="$1" '$1 == n { print $3 }' "$dir/list"; }
[ "$(row vm1)" = "$(row vm2)" ] || fail "xl list Mem: vm1 $(row vm1), vm2 $(row vm2)"
# memvisor's views in xl's layout: list agrees with xl list, name by name.
"$memvisor" list >"$dir/mlist" || fail "memvisor list"
mrow() { awk -v n="$1" '$1 == n { print $2, $3 }' "$dir/mlist"; }
xrow() { awk -v n="$1" '$1 == n { print $2, $3 }' "$dir/list"; }
for n in vm1 vm2; do
    [ -n "$(mrow $n)" ] && [ "$(mrow $n)" = "$(xrow $n)" ] ||
        fail "list $n: memvisor '$(mrow $n)', xl '$(xrow $n)'"
done
head -1 "$dir/mlist" | grep -q "^Name  *ID  *Mem VCPUs  *State" || fail "list header: $(head -1 "$dir/mlist")"
"$memvisor" claims | head -1 | grep -q "Claimed$" || fail "claims header"
"$memvisor" info >"$dir/minfo" || fail "memvisor info"
$XL info >"$dir/xinfo" 2>/dev/null || fail "xl info"
for k in total_memory free_memory outstanding_claims; do
    m=$(awk -v k=$k '$1 == k { print $3 }' "$dir/minfo")
    x=$(awk -v k=$k '$1 == k { print $3 }' "$dir/xinfo")
    [ -n "$m" ] && [ "$m" = "$x" ] || fail "info $k: memvisor '$m', xl '$x'"
done
"$memvisor" tmem-list -a >/dev/null || fail "tmem-list -a"
"$memvisor" tmem-list -l vm1 >/dev/null || fail "tmem-list -l vm1"
"$memvisor" tmem-freeze -a || fail "tmem-freeze -a"
# vm2 never used tmem: Xen's answer for a domain without a client.
"$memvisor" tmem-thaw vm2 2>"$dir/err"; [ $? -eq 1 ] || fail "tmem-thaw vm2 (no client)"
grep -q "no tmem client" "$dir/err" || fail "tmem-thaw vm2: $(cat "$dir/err")"
"$memvisor" tmem-thaw -a || fail "tmem-thaw -a"
"$memvisor" top -n 1 >"$dir/top" || fail "top -n 1"
grep -q "^ *vm1 " "$dir/top" && grep -q "TARGET(k)" "$dir/top" || fail "top: $(cat "$dir/top")"
# Bad usage: status 2 and a usage line; an unknown domain: 1.
"$memvisor" tmem-freeze 2>/dev/null; [ $? -eq 2 ] || fail "tmem-freeze without a target"
"$memvisor" list extra 2>/dev/null; [ $? -eq 2 ] || fail "list with an argument"
"$memvisor" top -d 0 2>/dev/null; [ $? -eq 2 ] || fail "top -d 0"
"$memvisor" tmem-thaw nosuch 2>/dev/null; [ $? -eq 1 ] || fail "tmem-thaw nosuch"

# Down again with xl: the balloon inflates.
$XL mem-set vm1 100m 2>/dev/null || fail "xl mem-set 100m"
await "$d1" data/meminfo_total $((94208 - 8320))
# libxl's refusals: above static-max, and mem-max below the target.
if $XL mem-set vm1 300m 2>"$dir/err"; then fail "xl mem-set above static-max worked"; fi
if "$memvisor" mem-set vm2 300m 2>"$dir/err2"; then fail "memvisor mem-set above static-max"; fi
grep -q memory_static_max "$dir/err2" || fail "memvisor's message: $(cat "$dir/err2")"
if $XL mem-max vm1 64m 2>"$dir/err"; then fail "xl mem-max below the target worked"; fi
# xl mem-max 300m: static-max and Xen's max (300 MiB + 1024 KiB).
$XL mem-max vm1 300m 2>/dev/null || fail "xl mem-max"
[ "$(key "$d1" memory/static-max)" = 307200 ] || fail "mem-max: $(key "$d1" memory/static-max)"
"$memvisor" mem-max vm2 300m || fail "memvisor mem-max"
[ "$(key "$d2" memory/static-max)" = 307200 ] || fail "memvisor mem-max: static-max"
xenstore-ls "/local/domain/$d1" >"$dir/ls" 2>&1 || fail "xenstore-ls"
for k in static-max target videoram feature-balloon meminfo_total name vm; do
    grep -q "^ *$k = " "$dir/ls" || fail "xenstore-ls has no $k"
done

# A scenario attached to this memvisord: its domains are built and
# ballooned here, listed among vm1 and vm2, and destroyed at the end.
cat >"$dir/att.cfg" <<'CFG'
name = "att"
type = "hvm"
memory = 64
maxmem = 64
guest_working_set = 16
CFG
cat >"$dir/att.scn" <<'SCN'
host     memory=1G
time     second=50ms duration=16
guest att config=att.cfg
at 0     create att
at 8     mem-set att 48
at 12    list
SCN
"$memvisor" run --attach --quiet --out "$dir" "$dir/att.scn" >"$dir/att.out" 2>&1 ||
    fail "run --attach: $(cat "$dir/att.out")"
grep -q "events: 3 ok" "$dir/att.out" || fail "run --attach: $(cat "$dir/att.out")"
python3 -c "
import json, sys
d = json.load(open(sys.argv[1]))
out = [e['output'] for e in d['events'] if e['verb'] == 'list'][0]
assert 'att' in out and 'vm1' in out and 'vm2' in out, out
assert d['checked'] is False
" "$dir/att.json" || fail "run --attach: the list it printed"
"$memvisor" list | grep -q "^att " && fail "run --attach left its domain behind"

# Destroy: the guest stops, the nodes and libxl's records go.
"$memvisor" destroy vm1 || fail "destroy vm1"
[ -z "$(key "$d1" name)" ] || fail "vm1's nodes remain"
! ls /var/lib/xen/userdata-d."$d1".$stamp* >/dev/null 2>&1 || fail "vm1's libxl record remains"
stop_memvisord
if [ $failures -ne 0 ]; then
    echo "--- xenstore-ls"; cat "$dir/ls"; echo "--- daemon"; cat "$dir/daemon.log"
fi
echo "xl balloon: $failures failures"
[ $failures -eq 0 ]
