/* State Threads (libst, https://state-threads.sourceforge.net) peer benchmark
 * for eventor. Single OS thread, cooperative st threads.
 *
 *   switch    two st threads ping-pong N round trips with st_cond_signal /
 *             st_cond_wait -> switch_ns (ns per one-direction switch)
 *   spawn     st_thread_create + st_thread_join, N threads in batches of 1000
 *             -> spawn_join_ns (ns per thread)
 *   sleepers  N threads alive at once, each st_usleep(1 s), then all joined
 *             -> sleepers_n, sleepers_wall_s, sleepers_rss_kib_per_co
 *   io_batch  R keep-alive HTTP/1.1 GETs over C connections (one st thread per
 *             connection, R/C sequential requests each) to 127.0.0.1:PORT
 *             -> io_batch_wall_s, io_batch_vs_ideal (ideal = R/C * delay)
 *
 * Every st thread gets a STACK_KIB (64 KiB) stack; ST mmaps each stack
 * separately (and caches freed ones; Linux merges adjacent anonymous mappings,
 * so vm.max_map_count is not normally hit). If thread creation fails during
 * `sleepers` (e.g. out of mappings, vm.max_map_count), the run continues with
 * the threads created so far and sleepers_n reports how many that was.
 *
 * Usage: st_bench [-n N] [-k STACK_KIB] [-s SLEEP_MS] switch|spawn|sleepers
 *        st_bench [-r R] [-c C] [-d DELAY_MS] io_batch PORT
 * Build: cc -O2 -o st_bench st_bench.c -lst
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <st.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static int stack_size = 64 * 1024;

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void die(const char *msg) {
    fprintf(stderr, "st_bench: %s\n", msg);
    exit(1);
}

/* A "Vm...:" field of /proc/self/status, in KiB. */
static long proc_status_kib(const char *field) {
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    size_t len = strlen(field);
    long v = -1;
    if (!f) die("cannot open /proc/self/status");
    while (fgets(line, sizeof line, f))
        if (strncmp(line, field, len) == 0 && line[len] == ':') {
            v = strtol(line + len + 1, NULL, 10);
            break;
        }
    fclose(f);
    if (v < 0) die("field not found in /proc/self/status");
    return v;
}

/* ---- switch ---------------------------------------------------------------- */

static st_cond_t cond_a, cond_b;
static int turn; /* 0: a's turn, 1: b's turn */
static long switch_n;

static void *pinger(void *arg) {
    (void)arg;
    for (long i = 0; i < switch_n; i++) {
        turn = 1;
        st_cond_signal(cond_b);
        while (turn != 0) st_cond_wait(cond_a);
    }
    return NULL;
}

static void *ponger(void *arg) {
    (void)arg;
    for (long i = 0; i < switch_n; i++) {
        while (turn != 1) st_cond_wait(cond_b);
        turn = 0;
        st_cond_signal(cond_a);
    }
    return NULL;
}

static void bench_switch(long n) {
    switch_n = n;
    cond_a = st_cond_new();
    cond_b = st_cond_new();
    double t0 = now_s();
    st_thread_t b = st_thread_create(ponger, NULL, 1, stack_size);
    st_thread_t a = st_thread_create(pinger, NULL, 1, stack_size);
    if (!a || !b) die("st_thread_create failed");
    st_thread_join(a, NULL);
    st_thread_join(b, NULL);
    double el = now_s() - t0;
    printf("switch_ns %.2f ns\n", el * 1e9 / (2.0 * (double)n));
}

/* ---- spawn ----------------------------------------------------------------- */

static void *noop(void *arg) { return arg; }

static void bench_spawn(long n) {
    enum { BATCH = 1000 };
    st_thread_t t[BATCH];
    double t0 = now_s();
    for (long done = 0; done < n;) {
        int b = n - done < BATCH ? (int)(n - done) : BATCH;
        for (int i = 0; i < b; i++)
            if (!(t[i] = st_thread_create(noop, NULL, 1, stack_size))) die("st_thread_create failed");
        for (int i = 0; i < b; i++) st_thread_join(t[i], NULL);
        done += b;
    }
    double el = now_s() - t0;
    printf("spawn_join_ns %.2f ns\n", el * 1e9 / (double)n);
}

/* ---- sleepers -------------------------------------------------------------- */

static st_utime_t sleep_us = 1000000;

static void *sleeper(void *arg) {
    st_usleep(sleep_us);
    return arg;
}

static void bench_sleepers(long n) {
    st_thread_t *t = malloc((size_t)n * sizeof *t);
    if (!t) die("out of memory");
    long base = proc_status_kib("VmRSS");
    double t0 = now_s();
    long made = 0;
    for (; made < n; made++)
        if (!(t[made] = st_thread_create(sleeper, NULL, 1, stack_size))) {
            perror("st_thread_create");
            fprintf(stderr, "st_bench: thread creation failed after %ld threads; continuing with N=%ld\n",
                    made, made);
            break;
        }
    double spawned = now_s() - t0;
    /* No st thread runs before main blocks in join, so all are alive at once. */
    fprintf(stderr, "spawned %ld sleepers in %.3f s\n", made, spawned);
    for (long i = 0; i < made; i++) st_thread_join(t[i], NULL);
    double el = now_s() - t0;
    long peak = proc_status_kib("VmHWM");
    printf("sleepers_n %ld count\n", made);
    printf("sleepers_wall_s %.3f s\n", el);
    printf("sleepers_rss_kib_per_co %.3f KiB\n", made ? (double)(peak - base) / (double)made : 0.0);
    free(t);
}

/* ---- io_batch -------------------------------------------------------------- */

static struct sockaddr_in server_addr;
static int io_per_conn;
static const char *io_error; /* first failure, if any */

/* Read until buf holds a full header block; return header length (incl. the
 * blank line) or -1. *have is the number of valid bytes in buf. */
static int read_headers(st_netfd_t fd, char *buf, int cap, int *have) {
    for (;;) {
        char *end = memmem(buf, (size_t)*have, "\r\n\r\n", 4);
        if (end) return (int)(end - buf) + 4;
        if (*have == cap) return -1;
        ssize_t r = st_read(fd, buf + *have, (size_t)(cap - *have), ST_UTIME_NO_TIMEOUT);
        if (r <= 0) return -1;
        *have += (int)r;
    }
}

/* Validate the status line and return Content-Length; NULL *err if fine. */
static long parse_head(char *buf, int hlen, const char **err) {
    buf[hlen - 2] = '\0'; /* terminate the last header line */
    char *sp = strchr(buf, ' ');
    if (strncmp(buf, "HTTP/1.", 7) != 0 || !sp || strncmp(sp + 1, "200", 3) != 0 ||
        (sp[4] != ' ' && sp[4] != '\r')) {
        *err = "status is not 200";
        return -1;
    }
    long clen = -1;
    for (char *line = strstr(buf, "\r\n"); line; line = strstr(line, "\r\n")) {
        line += 2;
        if (strncasecmp(line, "content-length:", 15) == 0) clen = strtol(line + 15, NULL, 10);
    }
    if (clen < 0) *err = "response without Content-Length";
    return clen;
}

static void *io_client(void *arg) {
    (void)arg;
    static const char req[] = "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
    char buf[4096];
    int have = 0, one = 1;
    int sock = socket(AF_INET, SOCK_STREAM, 0);
    st_netfd_t fd;
    if (sock < 0 || !(fd = st_netfd_open_socket(sock))) {
        io_error = "socket";
        return NULL;
    }
    setsockopt(sock, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (st_connect(fd, (struct sockaddr *)&server_addr, sizeof server_addr, ST_UTIME_NO_TIMEOUT) < 0) {
        io_error = "connect";
        goto out;
    }
    for (int i = 0; i < io_per_conn; i++) {
        if (st_write(fd, req, sizeof req - 1, ST_UTIME_NO_TIMEOUT) != (ssize_t)(sizeof req - 1)) {
            io_error = "write";
            goto out;
        }
        int hlen = read_headers(fd, buf, sizeof buf, &have);
        if (hlen < 0) {
            io_error = "connection closed (or headers > 4 KiB) before end of headers";
            goto out;
        }
        long body = parse_head(buf, hlen, &io_error);
        if (body < 0) goto out;
        if (have - hlen >= body) { /* common case: body already buffered */
            int used = hlen + (int)body;
            memmove(buf, buf + used, (size_t)(have - used)); /* keep any extra bytes */
            have -= used;
            continue;
        }
        for (body -= have - hlen, have = 0; body > 0;) { /* read and drop the rest */
            size_t want = body < (long)sizeof buf ? (size_t)body : sizeof buf;
            ssize_t r = st_read(fd, buf, want, ST_UTIME_NO_TIMEOUT);
            if (r <= 0) {
                io_error = "connection closed in body";
                goto out;
            }
            body -= r;
        }
    }
out:
    st_netfd_close(fd);
    return NULL;
}

static void bench_io(int port, int total, int conns, int delay_ms) {
    if (conns <= 0 || total % conns != 0) die("R must be a multiple of C");
    io_per_conn = total / conns;
    server_addr.sin_family = AF_INET;
    server_addr.sin_port = htons((unsigned short)port);
    server_addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    st_thread_t *t = malloc((size_t)conns * sizeof *t);
    if (!t) die("out of memory");
    double t0 = now_s();
    for (int i = 0; i < conns; i++)
        if (!(t[i] = st_thread_create(io_client, NULL, 1, stack_size))) die("st_thread_create failed");
    for (int i = 0; i < conns; i++) st_thread_join(t[i], NULL);
    double el = now_s() - t0;
    free(t);
    if (io_error) {
        fprintf(stderr, "st_bench: io_batch failed: %s\n", io_error);
        exit(1);
    }
    double ideal = io_per_conn * delay_ms / 1000.0;
    printf("io_batch_wall_s %.3f s\n", el);
    printf("io_batch_vs_ideal %.3f x\n", el / ideal);
}

/* ---- main ------------------------------------------------------------------ */

static void usage(void) {
    fprintf(stderr,
            "usage: st_bench [-n N] [-k STACK_KIB] [-s SLEEP_MS] switch|spawn|sleepers\n"
            "       st_bench [-r R] [-c C] [-d DELAY_MS] io_batch PORT\n");
    exit(2);
}

int main(int argc, char **argv) {
    long n = 0;
    int total = 20000, conns = 200, delay_ms = 10;
    const char *cmd = NULL, *port = NULL;
    for (int i = 1; i < argc; i++) { /* flags may come before or after the subcommand */
        const char *a = argv[i];
        if (a[0] == '-' && a[1] && !a[2] && i + 1 < argc) {
            long v = strtol(argv[++i], NULL, 10);
            switch (a[1]) {
            case 'n': n = v; break;
            case 'k': stack_size = (int)v * 1024; break;
            case 's': sleep_us = (st_utime_t)v * 1000; break;
            case 'r': total = (int)v; break;
            case 'c': conns = (int)v; break;
            case 'd': delay_ms = (int)v; break;
            default: usage();
            }
        } else if (!cmd) cmd = a;
        else if (!port) port = a;
        else usage();
    }
    if (!cmd) usage();
    /* epoll if this libst was built with it; the default is select(). */
    if (st_set_eventsys(ST_EVENTSYS_ALT) < 0) st_set_eventsys(ST_EVENTSYS_DEFAULT);
    if (st_init() < 0) die("st_init failed");
    fprintf(stderr, "eventsys=%s stack=%d KiB\n", st_get_eventsys_name(), stack_size / 1024);

    if (!strcmp(cmd, "switch")) bench_switch(n > 0 ? n : 10000000);
    else if (!strcmp(cmd, "spawn")) bench_spawn(n > 0 ? n : 1000000);
    else if (!strcmp(cmd, "sleepers")) bench_sleepers(n > 0 ? n : 1000000);
    else if (!strcmp(cmd, "io_batch") && port) bench_io(atoi(port), total, conns, delay_ms);
    else usage();
    return 0;
}
