#!/bin/sh
# Debian's real xl (xen-utils-4.17, unpacked) against memvisord through the
# drop-in libxencall: `xl info` prints the right total_memory, free_memory
# and outstanding_claims, `xl list` lists the domains made here with their
# memory, `xl claims` their claims.  libxl reads the domains' names from
# memvisord's own xenstore.
#   test_xl.sh MEMVISORD MEMVISOR LIBDIR XEN_UTILS_ROOT
. "$(dirname "$0")/xl_support.sh"

cleanup() {
    [ -n "${dpid:-}" ] && kill -TERM "$dpid" 2>/dev/null && wait "$dpid"
    rm -rf "$dir"
}
trap cleanup EXIT
start_memvisord --ram 2G --nodes 2

# Two domains: one claimed and partly populated, one populated in 4 KiB.
d1=$("$memvisor" create --max 512M --claim 256M) || fail "create d1"
"$memvisor" populate "$d1" 64M >/dev/null || fail "populate d1"
d2=$("$memvisor" create --max 1G) || fail "create d2"
"$memvisor" populate "$d2" 300M --extent 4k >/dev/null || fail "populate d2"
[ "$(xenstore-read /local/domain/0/name)" = Domain-0 ] || fail "memvisord did not name dom0"
xenstore-write "/local/domain/$d1/name" "vm-$d1" "/local/domain/$d2/name" "vm-$d2" ||
    fail "xenstore-write"

# 2 GiB less frame 0 is 524287 pages; 64 MiB + 300 MiB are in use; d1's
# claim of 256 MiB less the 64 MiB it has is 49152 pages.  xl prints MiB,
# rounding down, and free_memory is free less outstanding.
$XL info >"$dir/info" 2>"$dir/info.err"
field() { awk -F: -v k="$1" '$1 ~ "^"k" *$" { gsub(/ /, "", $2); print $2 }' "$dir/info"; }
[ "$(field total_memory)" = $((524287 / 256)) ] || fail "xl info total_memory: $(field total_memory)"
[ "$(field free_memory)" = $(((524287 - 16384 - 76800 - 49152) / 256)) ] ||
    fail "xl info free_memory: $(field free_memory)"
[ "$(field outstanding_claims)" = 192 ] || fail "xl info outstanding_claims: $(field outstanding_claims)"
[ "$(field nr_nodes)" = 2 ] || fail "xl info nr_nodes: $(field nr_nodes)"

# xl's Mem column is a domain's pages plus its outstanding claim.
$XL list >"$dir/list" 2>"$dir/list.err" || fail "xl list failed: $(cat "$dir/list.err")"
row() { awk -v n="$1" '$1 == n { print $2, $3 }' "$dir/$2"; }
[ "$(row Domain-0 list)" = "0 0" ] || fail "xl list Domain-0: $(row Domain-0 list)"
[ "$(row "vm-$d1" list)" = "$d1 256" ] || fail "xl list vm-$d1: $(row "vm-$d1" list)"
[ "$(row "vm-$d2" list)" = "$d2 300" ] || fail "xl list vm-$d2: $(row "vm-$d2" list)"

$XL claims >"$dir/claims" 2>"$dir/claims.err" || fail "xl claims failed"
claimed() { awk -v n="$1" '$1 == n { print $NF }' "$dir/claims"; }
[ "$(claimed "vm-$d1")" = 192 ] || fail "xl claims vm-$d1: $(claimed "vm-$d1")"
[ "$(claimed "vm-$d2")" = 0 ] || fail "xl claims vm-$d2: $(claimed "vm-$d2")"

# Releasing the claim and destroying show through xl too.
"$memvisor" claim "$d1" 0 || fail "cancel the claim"
# A domain's death fires @releaseDomain in memvisord's xenstore.
timeout 10 xenstore-watch -n 2 @releaseDomain >"$dir/release" 2>&1 &
wpid=$!
i=0
while [ ! -s "$dir/release" ] && [ $i -lt 600 ]; do sleep 0.05; i=$((i + 1)); done
"$memvisor" destroy "$d2" || fail "destroy d2"
wait $wpid || fail "no @releaseDomain event: $(cat "$dir/release")"
[ "$(grep -c @releaseDomain "$dir/release")" = 2 ] || fail "@releaseDomain: $(cat "$dir/release")"
$XL info >"$dir/info" 2>/dev/null
[ "$(field outstanding_claims)" = 0 ] || fail "after cancel: outstanding_claims $(field outstanding_claims)"
$XL list >"$dir/list" 2>/dev/null
[ "$(row "vm-$d1" list)" = "$d1 64" ] || fail "after cancel: xl list vm-$d1: $(row "vm-$d1" list)"
[ -z "$(row "vm-$d2" list)" ] || fail "xl list still shows vm-$d2"
# memvisor destroy, like xl destroy, removes the domain's nodes too.
! xenstore-read "/local/domain/$d2/name" >/dev/null 2>&1 || fail "d2's nodes remain"

# Without memvisord, xl says so and fails.  (The daemon must stop cleanly,
# with nothing from a sanitizer in its log.)
stop_memvisord
if $XL info >/dev/null 2>"$dir/down.err"; then
    fail "xl info succeeded without memvisord"
fi
grep -q "Could not connect to memvisord" "$dir/down.err" || fail "no clear error: $(cat "$dir/down.err")"

if [ $failures -ne 0 ]; then
    echo "--- xl info"; cat "$dir/info" "$dir/info.err"
    echo "--- xl list"; cat "$dir/list"
    echo "--- xl claims"; cat "$dir/claims"
    echo "--- daemon"; cat "$dir/daemon.log"
fi
echo "xl: $failures failures"
[ $failures -eq 0 ]
