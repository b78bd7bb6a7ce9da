/*
 * hypercall_roundtrip_us: one xc_physinfo through Debian's unmodified
 * libxenctrl and the drop-in libxencall to memvisord and back, beside
 * socket_pingpong_us: a bare round trip of the same-sized packets over a
 * unix socket to another process, the floor for any daemon.  Run under
 * tests/clients/run_with_daemon.sh (make bench does).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <xenctrl.h>

#include "bench_util.h"
#include "memvisor/wire.h"

#define ITERS 20000
#define REPS 5

static double pingpong_us(void)
{
    struct mv_wire_call call = { 0 };
    struct mv_wire_reply reply = { 0 };
    uint64_t best = UINT64_MAX;
    int sv[2];
    pid_t pid;

    if (socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv) < 0)
        exit(1);
    pid = fork();
    if (pid == 0) {
        close(sv[0]);
        while (recv(sv[1], &call, sizeof(call), 0) == sizeof(call))
            if (send(sv[1], &reply, sizeof(reply), 0) != sizeof(reply))
                break;
        _exit(0);
    }
    close(sv[1]);
    for (int r = 0; r < REPS; r++) {
        uint64_t t0 = mv_now_ns();
        for (int i = 0; i < ITERS; i++)
            if (send(sv[0], &call, sizeof(call), 0) != sizeof(call) ||
                recv(sv[0], &reply, sizeof(reply), 0) != sizeof(reply))
                exit(1);
        best = min_u64(best, mv_now_ns() - t0);
    }
    close(sv[0]);
    waitpid(pid, NULL, 0);
    return best / 1e3 / ITERS;
}

static double physinfo_us(void)
{
    xc_interface *xch = xc_interface_open(NULL, NULL, 0);
    uint64_t best = UINT64_MAX;
    xc_physinfo_t pi;

    if (!xch) {
        perror("bench: xc_interface_open (is memvisord running, MEMVISOR_SOCKET set?)");
        exit(1);
    }
    for (int r = 0; r < REPS; r++) {
        uint64_t t0 = mv_now_ns();
        for (int i = 0; i < ITERS; i++)
            if (xc_physinfo(xch, &pi))
                exit(1);
        best = min_u64(best, mv_now_ns() - t0);
    }
    xc_interface_close(xch);
    return best / 1e3 / ITERS;
}

int main(void)
{
    double floor_us = pingpong_us();

    bench_emit("socket_pingpong_us", floor_us, "us", NULL, 0,
               "unix seqpacket round trip to another process, 72 bytes out, 16 back");
    bench_emit("hypercall_roundtrip_us", physinfo_us(), "us", "socket_pingpong_us", floor_us,
               "xc_physinfo: Debian libxenctrl, drop-in libxencall, memvisord");
    return 0;
}
