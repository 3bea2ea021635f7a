/* The per-run supervisor: a small process forked at start (before any
 * thread) that holds the list of the jobs' process groups and, when
 * eventor's end of its pipe closes without having emptied the list (eventor
 * was killed, even by kill -9), kills every group on it, so a job's own
 * children die with the run and --resume never meets them again.
 *
 * Why a supervisor rather than a PID namespace or a cgroup: both need
 * privileges (CAP_SYS_ADMIN, a user namespace the system may disable, or a
 * delegated cgroup) that a shell user rarely has, and a namespace would
 * change what jobs see (pids, /proc). A process group is what GNU parallel
 * already signals, and a job's children stay in it unless they leave on
 * purpose (setsid, setpgid: daemons), which no mechanism short of a
 * cgroup could follow. The child registers its group itself, before
 * execve, so nothing it starts can escape the list; eventor removes it
 * just before reaping the job, while the zombie still holds the group's
 * number (no group that the kernel could hand to someone else is ever
 * killed). */
#include "cli.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

static int sup_fd = -1; /* the write end; -1 without a supervisor */

int supervise_fd(void)
{
    return sup_fd;
}

void supervise_forget(int pid)
{
    int32_t v = -(int32_t)pid;
    while (sup_fd >= 0 && send(sup_fd, &v, sizeof v, MSG_NOSIGNAL) < 0 &&
           errno == EINTR)
        ;
}

/* A set of pids: one bit each, grown as larger pids come. */
static uint8_t *set;
static size_t set_bytes;

static void set_put(int32_t pid, int on)
{
    size_t byte = (size_t)pid / 8;
    if (byte >= set_bytes) {
        size_t n = set_bytes ? set_bytes : 4096;
        while (n <= byte)
            n *= 2;
        uint8_t *s = realloc(set, n);
        if (!s)
            return; /* nowhere to keep it: PR_SET_PDEATHSIG still holds */
        memset(s + set_bytes, 0, n - set_bytes);
        set = s;
        set_bytes = n;
    }
    if (on)
        set[byte] |= (uint8_t)(1u << (pid % 8));
    else
        set[byte] &= (uint8_t)~(1u << (pid % 8));
}

static _Noreturn void supervisor(int fd)
{
    /* A terminal's ^C reaches our process group: eventor decides. */
    signal(SIGINT, SIG_IGN);
    signal(SIGTERM, SIG_IGN);
    signal(SIGHUP, SIG_IGN);
    signal(SIGQUIT, SIG_IGN);
    signal(SIGPIPE, SIG_IGN);
    int32_t buf[1024];
    size_t have = 0; /* bytes in buf (4-byte writes are atomic on a pipe,
                        so this stays a multiple of 4; kept general) */
    for (;;) {
        ssize_t n = read(fd, (char *)buf + have, sizeof buf - have);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        have += (size_t)n;
        size_t whole = have / sizeof buf[0];
        for (size_t i = 0; i < whole; i++)
            if (buf[i] > 0)
                set_put(buf[i], 1);
            else if (buf[i] < 0)
                set_put(-buf[i], 0);
        have -= whole * sizeof buf[0];
        memmove(buf, buf + whole, have);
    }
    for (size_t byte = 0; byte < set_bytes; byte++)
        for (int bit = 0; set[byte] && bit < 8; bit++)
            if (set[byte] >> bit & 1)
                kill(-(pid_t)(byte * 8 + (size_t)bit), SIGKILL);
    _exit(0);
}

int supervise_start(void)
{
    /* A socket rather than a pipe: MSG_NOSIGNAL, so a supervisor that died
     * costs its protection, never a SIGPIPE. */
    int p[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, p) < 0)
        return -1;
    int size = 1 << 20; /* never a wait in practice */
    (void)setsockopt(p[1], SOL_SOCKET, SO_SNDBUF, &size, sizeof size);
    shutdown(p[1], SHUT_RD);
    pid_t pid = fork();
    if (pid < 0) {
        int e = errno;
        close(p[0]);
        close(p[1]);
        errno = e;
        return -1;
    }
    if (pid == 0) {
        /* Hold nothing of eventor's: a pipe reader downstream must see
         * the end of eventor's output when eventor ends. */
        if (dup2(p[0], 3) < 0)
            _exit(1);
        int null = open("/dev/null", O_RDWR);
        for (int i = 0; i < 3 && null >= 0; i++)
            dup2(null, i);
        if (syscall(SYS_close_range, 4u, ~0u, 0u) < 0)
            for (int i = 4; i < 1024; i++)
                close(i);
        supervisor(3);
    }
    close(p[0]);
    sup_fd = p[1];
    return 0;
}
