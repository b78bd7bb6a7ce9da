#!/bin/sh
# Every shipped scenario gives the same JSON report, to the byte outside
# its "wall" line, in every build and however loaded the machine is:
#   - the release build runs each scenario twice, the second time while a
#     busy loop runs on every CPU;
#   - both reports are compared with each other and with those the debug,
#     asan and tsan builds' test_shipped wrote (build/NAME/reproducible).
# Prints "reproducible: N passed, M failed" (one per scenario) and exits 1
# if any differs.  Usage: check-reproducible.sh RELEASE_BUILD_DIR
set -u
cd "$(dirname "$0")/.."
root=$(pwd -P)
build=$1
out=build/reproducible-release
mkdir -p "$out/quiet" "$out/loaded"
pass=0 fail=0

strip_wall() { grep -v '^  "wall": ' "$1"; }

hog_pids=""
start_hog() {
    for _ in $(seq "$(nproc)"); do
        sh -c 'while :; do :; done' &
        hog_pids="$hog_pids $!"
    done
}
stop_hog() {
    [ -n "$hog_pids" ] && kill $hog_pids 2>/dev/null
    wait $hog_pids 2>/dev/null
    hog_pids=""
}
trap stop_hog EXIT

for scn in "$root"/scenarios/*.scn; do
    name=$(basename "$scn" .scn)
    ok=true
    "$build/memvisor" run --quiet --out "$out/quiet" "$scn" >/dev/null || ok=false
    start_hog
    "$build/memvisor" run --quiet --out "$out/loaded" "$scn" >/dev/null || ok=false
    stop_hog
    ref=$out/quiet/$name.json
    for other in "$out/loaded/$name.json" build/debug/reproducible/$name.json \
                 build/asan/reproducible/$name.json build/tsan/reproducible/$name.json; do
        if [ ! -f "$other" ] || [ ! -f "$ref" ]; then
            echo "  $name: no report $other"
            ok=false
        else
            strip_wall "$ref" >"$out/a.json"
            strip_wall "$other" >"$out/b.json"
            if ! cmp -s "$out/a.json" "$out/b.json"; then
                echo "  $name: $ref and $other differ:"
                diff "$out/a.json" "$out/b.json" | head -10
                ok=false
            fi
        fi
    done
    if $ok; then
        echo "  $name: the same report from release (quiet and loaded), debug, asan and tsan"
        pass=$((pass + 1))
    else
        fail=$((fail + 1))
    fi
done
echo "reproducible: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
