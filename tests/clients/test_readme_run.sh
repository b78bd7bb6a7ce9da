#!/bin/sh
# The README shows exactly what `make run` prints: its block beginning with
# the scenario's title is compared with what `memvisor run` prints for the
# same scenario (on the virtual clock, the same on every machine), the
# reports' directory aside.
#   test_readme_run.sh MEMVISOR SOURCE_DIR
set -u
memvisor=$1 src=$2
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
awk '/^```$/ && grab { exit } grab { print } /^```$/ && !grab { getline line; if (line == "The delayed-failure race, without claims") { grab = 1; print "" ; print line } }' \
    "$src/README.md" >"$dir/readme.txt"
[ -s "$dir/readme.txt" ] || { echo "FAIL: no make run block in README.md"; exit 1; }
(cd "$src" && "$memvisor" run --quiet --out "$dir" scenarios/race-without-claims.scn) |
    sed "s|$dir/|build/report/|g" >"$dir/run.txt"
if ! cmp -s "$dir/readme.txt" "$dir/run.txt"; then
    echo "FAIL: README.md's make run block differs from what memvisor run prints:"
    diff "$dir/readme.txt" "$dir/run.txt"
    exit 1
fi
echo "README's make run output: the same, $(wc -l <"$dir/run.txt") lines"
