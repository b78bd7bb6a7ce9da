# Shared by the tests that run Debian's xl against memvisord (sourced):
# the arguments, fail(), and a daemon on private sockets.
#   . xl_support.sh MEMVISORD MEMVISOR LIBDIR XEN_UTILS_ROOT
set -u
memvisord=$1 memvisor=$2 libdir=$3 xroot=$4
xl=$xroot/usr/lib/xen-4.17/bin/xl
XL="env LD_LIBRARY_PATH=$libdir $xl"
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

[ -x "$xl" ] || { echo "no xl at $xl (scripts/fetch-xen-utils.sh unpacks it)"; exit 1; }
command -v xenstore-write >/dev/null || { echo "xenstore-write missing (xenstore-utils)"; exit 1; }
dir=$(mktemp -d)
MEMVISOR_SOCKET=$dir/hypercall.sock XENSTORED_PATH=$dir/xenstored.sock
export MEMVISOR_SOCKET XENSTORED_PATH

# start_memvisord [OPTIONS]: the daemon in the background (dpid), its log
# in $dir/daemon.log; returns once both sockets are there.
start_memvisord() {
    "$memvisord" --socket "$MEMVISOR_SOCKET" --xenstore-socket "$XENSTORED_PATH" \
        --log-level warn "$@" 2>"$dir/daemon.log" &
    dpid=$!
    i=0
    while { [ ! -S "$MEMVISOR_SOCKET" ] || [ ! -S "$XENSTORED_PATH" ]; } && [ $i -lt 600 ]; do
        sleep 0.05; i=$((i + 1))
    done
}

# stop_memvisord: SIGTERM; it must exit 0 with nothing from a sanitizer.
stop_memvisord() {
    kill -TERM "$dpid"; wait "$dpid"; drc=$?; dpid=
    [ $drc -eq 0 ] || fail "memvisord exited with $drc"
    ! grep -q "Sanitizer" "$dir/daemon.log" || fail "sanitizer report from memvisord"
}
