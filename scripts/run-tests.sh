#!/bin/sh
# Builds and runs every test in three configurations:
#   debug   gcc, -O1 -g, assertions and lock-rank checks
#   asan    clang, AddressSanitizer + UndefinedBehaviorSanitizer (+ LeakSanitizer),
#           and the libFuzzer targets with a short deterministic fuzzing run
#   tsan    clang, ThreadSanitizer
# then the release build, to check that every shipped scenario's report is
# the same from all four (scripts/check-reproducible.sh); and ends with one summary line: "memvisor tests: N passed, M failed".
set -u
cd "$(dirname "$0")/.."

JOBS=${JOBS:-$(nproc 2>/dev/null || echo 2)}
total_pass=0
total_fail=0
failed_configs=""

# name, compiler, sanitizer, model operations
run_config() {
    name=$1 cc=$2 san=$3 ops=$4
    dir=build/$name
    echo "=== $name: configure and build"
    mkdir -p build
    if ! cmake -S . -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=Debug -DCMAKE_C_COMPILER="$cc" \
            -DMV_SANITIZE="$san" >"$dir.configure.log" 2>&1 ||
       ! ninja -C "$dir" >"$dir.build.log" 2>&1; then
        cat "$dir.configure.log" "$dir.build.log" 2>/dev/null
        echo "=== $name: BUILD FAILED"
        total_fail=$((total_fail + 1))
        failed_configs="$failed_configs $name(build)"
        return
    fi
    echo "=== $name: test"
    out=$( cd "$dir" && MV_MODEL_OPS=$ops ASAN_OPTIONS=detect_leaks=1 \
           UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 TSAN_OPTIONS=halt_on_error=1 \
           ctest -j "$JOBS" --output-on-failure 2>&1 )
    echo "$out"
    summary=$(echo "$out" | grep -E "tests passed, [0-9]+ tests failed out of [0-9]+" | tail -1)
    if [ -z "$summary" ]; then
        total_fail=$((total_fail + 1))
        failed_configs="$failed_configs $name"
        return
    fi
    failed=$(echo "$summary" | sed -E 's/.* ([0-9]+) tests failed out of ([0-9]+).*/\1/')
    count=$(echo "$summary" | sed -E 's/.* ([0-9]+) tests failed out of ([0-9]+).*/\2/')
    total_pass=$((total_pass + count - failed))
    total_fail=$((total_fail + failed))
    [ "$failed" -eq 0 ] || failed_configs="$failed_configs $name"
}

# Debian's xl, unpacked (not installed), for the real-client tests.
if ! ./scripts/fetch-xen-utils.sh build/xen-utils; then
    echo "cannot fetch xen-utils-4.17 (the xl tests will fail)"
fi

run_config debug gcc "" 1000000
run_config asan clang address 200000
run_config tsan clang thread 30000

# The shipped scenarios' reports: the same from every build above and from
# the release build, with and without every CPU busy.
echo "=== reproducible: the release build, and the reports compared"
if cmake -S . -B build/release -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_C_COMPILER=gcc \
        >build/release.configure.log 2>&1 && ninja -C build/release >build/release.build.log 2>&1; then
    out=$(./scripts/check-reproducible.sh build/release 2>&1)
    echo "$out"
    summary=$(echo "$out" | grep -E "^reproducible: [0-9]+ passed, [0-9]+ failed" | tail -1)
    if [ -n "$summary" ]; then
        p=$(echo "$summary" | sed -E 's/reproducible: ([0-9]+) passed, ([0-9]+) failed/\1/')
        f=$(echo "$summary" | sed -E 's/reproducible: ([0-9]+) passed, ([0-9]+) failed/\2/')
        total_pass=$((total_pass + p))
        total_fail=$((total_fail + f))
        [ "$f" -eq 0 ] || failed_configs="$failed_configs reproducible"
    else
        total_fail=$((total_fail + 1))
        failed_configs="$failed_configs reproducible"
    fi
else
    cat build/release.configure.log build/release.build.log
    total_fail=$((total_fail + 1))
    failed_configs="$failed_configs release(build)"
fi

[ -n "$failed_configs" ] && echo "failed in:$failed_configs"
echo "memvisor tests: $total_pass passed, $total_fail failed"
[ "$total_fail" -eq 0 ]
