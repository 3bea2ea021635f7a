/* Tests of a file on worker processes or threads, split by byte ranges:
 * every line reaches fn once with its index in the file and comes back in
 * order (empty lines, CRLF and a last line without a newline included);
 * halt now on threads cancels the chunks running there; a worker
 * killed mid-chunk costs a rerun of the line it was running only, a
 * line that kills every worker fails with the signal after the retries,
 * lines that crash their worker (SIGSEGV, abort) fail alone, after their
 * retries, and cost no other line: every other line runs exactly once,
 * even those that finished out of order beside the crash; workers
 * SIGKILLed from outside cost no line even without retries and run no
 * finished line again, and a file that cannot be split is read line by
 * line; a signal stops new chunks and every line read is still
 * reported. */
#include <criterion/criterion.h>
#include <errno.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "eventor.h"

#include "../common/workers.h"

#define N 60000
#define C 8
/* Shared with the workers (made before the fork server): how often each
 * line was consumed; the line that kills its worker (ctl[KILL], -1: none)
 * and whether it does so every time (ctl[ALWAYS]); the first line that
 * waits (ctl[GATE], -1: none) until the test opens the gate (ctl[OPEN]);
 * whether the lines near a crash sleep 0-4 ms first (ctl[SLEEPY]), so that
 * they finish out of order around it. */
static _Atomic uint32_t *consumed;
static _Atomic int *ctl;
enum { KILL, ALWAYS, KILLED, FAIL, GATE, OPEN, CRASH, SLEEPY, NCTL };

__attribute__((constructor(200))) static void make_shared(void)
{
    consumed = evt_ipc_array_new(N, sizeof *consumed);
    ctl = evt_ipc_array_new(NCTL, sizeof *ctl);
    ctl[KILL] = ctl[FAIL] = ctl[GATE] = -1;
}

/* Line i of the test file. */
static void line(int i, char *out, size_t cap)
{
    if (i % 1000 == 7)
        out[0] = 0; /* an empty line */
    else
        snprintf(out, cap, "line-%d", i);
}

static char path[64];

static void write_file(void)
{
    strcpy(path, "/tmp/eventor-test-XXXXXX");
    int fd = mkstemp(path);
    cr_assert_geq(fd, 0);
    FILE *f = fdopen(fd, "w");
    char buf[32];
    for (int i = 0; i < N; i++) {
        line(i, buf, sizeof buf);
        /* CRLF now and then; no newline after the last line. */
        fprintf(f, "%s%s", buf, i == N - 1 ? "" : i % 100 == 3 ? "\r\n" : "\n");
    }
    fclose(f);
}

/* Lines that crash their worker every time: SIGSEGV on odd ones, abort on
 * even ones (set by the test, before the fork server's workers run). */
#define CRASHES 8
static const int crash_at[CRASHES] = {11, 6012, 6013, 17777, 30001, 44444,
                                      51234, N - 1};

static int crashes(int i)
{
    for (int k = 0; k < CRASHES; k++)
        if (crash_at[k] == i)
            return 1;
    return 0;
}

static int near_crash(int i)
{
    for (int k = 0; k < CRASHES; k++)
        if (i > crash_at[k] - 4 * C && i < crash_at[k] + 4 * C)
            return 1;
    return 0;
}

static int work(const evt_batch_task_t *t, void *out, size_t cap,
                size_t *len, void *user)
{
    (void)user;
    int i = (int)t->index;
    if (ctl[SLEEPY] && near_crash(i))
        evt_sleep(evt_now() + (i * 7) % 5);
    if (ctl[CRASH] && crashes(i)) {
        atomic_fetch_add(&consumed[i], 1);
        if (i % 2)
            raise(SIGSEGV);
        abort();
    }
    /* (ctl[KILLED]: how many times it killed its worker) */
    if (i == ctl[KILL] && (ctl[ALWAYS] ? atomic_fetch_add(&ctl[KILLED], 1) >= 0
                                       : atomic_exchange(&ctl[KILLED], 1) == 0))
        raise(SIGKILL);
    if (i == ctl[FAIL])
        return errno = EIO, -1;
    /* Held lines wait for the gate (10 s at most: then the test fails). */
    for (int64_t dl = evt_now() + 10000;
         ctl[GATE] >= 0 && i >= ctl[GATE] && !ctl[OPEN] && evt_now() < dl;)
        evt_sleep(evt_now() + 1);
    atomic_fetch_add(&consumed[i], 1);
    /* The worker's thread id: its pid in a worker process. */
    *len = (size_t)snprintf(out, cap, "%d|%ld|%.*s", i, (long)syscall(SYS_gettid),
                            (int)t->len, (const char *)t->item);
    return 0;
}

typedef struct seen {
    uint64_t next;   /* the index on_result expects */
    int bad;         /* results out of order or wrong */
    long pids[8];
    int npids;
    int status[N];
} seen_t;

static void check(const evt_batch_task_t *t, int status, const void *res,
                  size_t len, void *user)
{
    seen_t *s = user;
    char want[32], got[64];
    line((int)t->index, want, sizeof want);
    if (t->index != s->next++ || t->len != strlen(want)
        || memcmp(t->item, want, t->len) != 0)
        s->bad++;
    s->status[t->index] = status;
    if (status != 0)
        return;
    snprintf(got, sizeof got, "%.*s", (int)len, (const char *)res);
    char *bar = strchr(got, '|');
    long pid = bar ? atol(bar + 1) : 0;
    char *item = bar ? strchr(bar + 1, '|') : NULL;
    if (atol(got) != (long)t->index || !item || strcmp(item + 1, want) != 0
        || pid == (long)getpid())
        s->bad++;
    int known = 0;
    for (int k = 0; k < s->npids; k++)
        known |= s->pids[k] == pid;
    if (!known && s->npids < 8)
        s->pids[s->npids++] = pid;
}

/* On 2 worker processes, or 2 threads when threads is 1. */
static void run_on(seen_t *s, evt_batch_report_t *r, unsigned retries,
                   int threads)
{
    memset(s, 0, sizeof *s);
    for (int i = 0; i < N; i++)
        consumed[i] = 0;
    ctl[KILLED] = 0;
    evt_batch_opts_t o = {.processes = threads ? 0 : 2,
                          .threads = threads ? 2 : 0, .coroutines = C,
                          .ordered = 1, .retries = retries,
                          .on_result = check, .user = s};
    cr_assert_eq(evt_batch_run_file(&o, work, path, r), 0, "%s",
                 strerror(errno));
    cr_assert_eq(r->read, N);
    cr_assert_eq(s->next, N, "every line is reported");
    cr_assert_eq(s->bad, 0, "%d lines came back wrong", s->bad);
}

static void run(seen_t *s, evt_batch_report_t *r, unsigned retries)
{
    run_on(s, r, retries, 0);
}

/* Every line once, in order, from both workers of the shape. */
static void every_line_once(int threads)
{
    static seen_t s;
    evt_batch_report_t r;
    write_file();
    run_on(&s, &r, 0, threads);
    unlink(path);
    cr_assert_eq(r.ok, N);
    cr_assert_eq(s.npids, 2, "both workers took chunks");
    for (int i = 0; i < N; i++)
        cr_assert_eq(consumed[i], 1, "line %d consumed %u times", i,
                     consumed[i]);
}

Test(broker_ranges, lines_come_back_in_order_from_both_workers)
{
    every_line_once(0);
}

Test(broker_ranges, lines_come_back_in_order_from_both_threads)
{
    every_line_once(1);
}

/* What on_progress saw: calls, bytes going back, the last counts. */
static struct {
    int calls, backwards;
    uint64_t done, total;
} prog;

static void note_progress(const evt_batch_report_t *r, uint64_t running,
                          void *user)
{
    (void)running, (void)user;
    prog.calls++;
    prog.backwards += r->bytes_done < prog.done;
    prog.done = r->bytes_done;
    prog.total = r->bytes_total;
}

static int say_nothing(const evt_batch_task_t *t, void *out, size_t cap,
                       size_t *len, void *user)
{
    (void)t, (void)out, (void)cap, (void)user;
    *len = 0;
    return 0;
}

/* A file's progress in bytes, in process or on 2 processes or threads:
 * bytes_done grows to the file's size, bytes_total, and on_progress (told
 * instead of a drawing) sees the same at the end. */
static void bytes_on(size_t processes, size_t threads, uint64_t size)
{
    memset(&prog, 0, sizeof prog);
    evt_batch_opts_t o = {.processes = processes, .threads = threads,
                          .coroutines = C, .ordered = 1, .progress = 1,
                          .on_progress = note_progress};
    evt_batch_report_t r;
    cr_assert_eq(evt_batch_run_file(&o, say_nothing, path, &r), 0);
    cr_assert_eq(r.read, N);
    cr_assert_eq(r.bytes_total, size);
    cr_assert_eq(r.bytes_done, size);
    cr_assert_geq(prog.calls, 1, "told at least at the end");
    cr_assert_eq(prog.backwards, 0);
    cr_assert_eq(prog.done, size);
    cr_assert_eq(prog.total, size);
}

Test(broker_ranges, progress_counts_a_files_bytes_on_every_shape)
{
    write_file();
    struct stat st;
    cr_assert_eq(stat(path, &st), 0);
    bytes_on(0, 0, (uint64_t)st.st_size);
    bytes_on(2, 0, (uint64_t)st.st_size);
    bytes_on(0, 2, (uint64_t)st.st_size);
    unlink(path);
}

Test(broker_ranges, halt_now_on_threads_cancels_their_chunks)
{
    static seen_t s;
    write_file();
    memset(&s, 0, sizeof s);
    ctl[FAIL] = 5;
    evt_batch_opts_t o = {.threads = 2, .coroutines = C, .ordered = 1,
                          .halt = EVT_HALT_NOW, .on_result = check,
                          .user = &s};
    evt_batch_report_t r;
    cr_assert_eq(evt_batch_run_file(&o, work, path, &r), 0);
    ctl[FAIL] = -1;
    unlink(path);
    cr_assert_eq(r.halted, 1);
    cr_assert_lt(r.read, N, "chunks not cut yet are not read");
    cr_assert_eq(s.next, r.read, "every line read is reported once");
    cr_assert_eq(s.bad, 0);
    cr_assert_eq(s.status[5], EIO);
    cr_assert_eq(r.ok + r.failed, r.read);
}

Test(broker_ranges, a_killed_worker_costs_a_rerun_of_its_running_line_only)
{
    static seen_t s;
    evt_batch_report_t r;
    write_file();
    enum { K = 31000 };
    ctl[ALWAYS] = 0;
    ctl[KILL] = K;
    run(&s, &r, 0);
    ctl[KILL] = -1;
    unlink(path);
    cr_assert_eq(r.ok, N);
    /* Each line finished is spooled at once: only K, which the worker was
     * running, runs again; every line is consumed once. */
    for (int i = 0; i < N; i++)
        cr_assert_eq(consumed[i], 1, "line %d consumed %u times", i,
                     consumed[i]);
}

Test(broker_ranges, a_line_that_kills_every_worker_fails_with_the_signal)
{
    static seen_t s;
    evt_batch_report_t r;
    write_file();
    enum { K = 12345 };
    ctl[ALWAYS] = 1;
    ctl[KILL] = K;
    run(&s, &r, 1);
    ctl[KILL] = -1;
    ctl[ALWAYS] = 0;
    unlink(path);
    cr_assert_eq(s.status[K], EVT_ESIGNALED(SIGKILL));
    for (int i = 0; i < N; i++)
        cr_assert(i == K || s.status[i] == 0, "line %d", i);
    cr_assert_eq(r.failed, 1);
    cr_assert_eq(r.ok, N - 1);
    /* It ran once beside others, then alone 1 + 1 retry + 3 kills spared
     * (a kill from outside is not its fault, until it comes every time);
     * the lines after it ran once. */
    cr_assert_eq(ctl[KILLED], 6, "line %d ran %d times", K, ctl[KILLED]);
    for (int i = K + 1; i < N; i++)
        cr_assert_eq(consumed[i], 1, "line %d consumed %u times", i,
                     consumed[i]);
}

/* The crashing lines fail with their signal, each after 1 + retries runs
 * alone (and one beside others); every other line is ok, in order, and
 * runs exactly once: each is spooled as it finishes, in whatever order
 * (sleepy: the lines near a crash finish out of order). */
static void crashing_lines_cost_themselves(unsigned retries, int sleepy)
{
    static seen_t s;
    evt_batch_report_t r;
    write_file();
    ctl[CRASH] = 1;
    ctl[SLEEPY] = sleepy;
    run(&s, &r, retries);
    ctl[CRASH] = ctl[SLEEPY] = 0;
    unlink(path);
    cr_assert_eq(r.failed, CRASHES);
    cr_assert_eq(r.ok, N - CRASHES);
    for (int i = 0; i < N; i++) {
        if (crashes(i)) {
            cr_assert_eq(s.status[i], EVT_ESIGNALED(i % 2 ? SIGSEGV : SIGABRT),
                         "line %d: %s", i, evt_strerror(s.status[i]));
            /* (sleepy: the crash beside it may come while it sleeps) */
            cr_assert(consumed[i] == retries + 2
                          || (sleepy && consumed[i] == retries + 1),
                      "line %d ran %u times", i, consumed[i]);
            continue;
        }
        cr_assert_eq(s.status[i], 0, "line %d: %s", i,
                     evt_strerror(s.status[i]));
        cr_assert_eq(consumed[i], 1, "line %d ran %u times", i, consumed[i]);
    }
    cr_assert_str_eq(evt_strerror(EVT_ESIGNALED(SIGSEGV)),
                     "worker killed by signal 11 (SIGSEGV)");
}

/* As check, and SIGKILL the worker that sent the result of lines 10000,
 * 20000, 30000 and 40000 (from here: from outside the worker). */
static int killed;

static void check_and_kill(const evt_batch_task_t *t, int status,
                           const void *res, size_t len, void *user)
{
    check(t, status, res, len, user);
    if (status != 0 || t->index % 10000 != 0 || t->index == 0
        || t->index > 40000)
        return;
    const char *bar = memchr(res, '|', len);
    if (bar && kill((pid_t)atol(bar + 1), SIGKILL) == 0)
        killed++;
}

Test(broker_ranges, workers_killed_from_outside_cost_no_line)
{
    static seen_t s;
    write_file();
    memset(&s, 0, sizeof s);
    for (int i = 0; i < N; i++)
        consumed[i] = 0;
    killed = 0;
    evt_batch_opts_t o = {.processes = 2, .coroutines = C, .ordered = 1,
                          .on_result = check_and_kill, .user = &s};
    evt_batch_report_t r;
    cr_assert_eq(evt_batch_run_file(&o, work, path, &r), 0);
    unlink(path);
    cr_assert_geq(killed, 1, "no worker was killed");
    cr_assert_eq(s.next, N);
    cr_assert_eq(s.bad, 0);
    cr_assert_eq(r.ok, N, "%zu lines failed", (size_t)r.failed);
    /* A line runs again only if it was between its consumption and its
     * record when the kill came: at most one a kill (a worker runs its
     * coroutines one at a time, and nothing parks in between). */
    int twice = 0;
    for (int i = 0; i < N; i++) {
        cr_assert(consumed[i] >= 1 && consumed[i] <= 2,
                  "line %d consumed %u times", i, consumed[i]);
        twice += consumed[i] == 2;
    }
    cr_assert_leq(twice, killed, "%d finished lines ran again", twice);
}

Test(broker_ranges, lines_that_crash_their_worker_fail_alone)
{
    crashing_lines_cost_themselves(0, 0);
}

Test(broker_ranges, lines_that_crash_their_worker_fail_after_their_retries)
{
    crashing_lines_cost_themselves(2, 0);
}

Test(broker_ranges, lines_finished_out_of_order_beside_a_crash_run_once)
{
    crashing_lines_cost_themselves(0, 1);
}

Test(broker_ranges, what_cannot_be_split_is_read_line_by_line)
{
    evt_batch_opts_t o = {.processes = 2};
    evt_batch_report_t r;
    cr_assert_eq(evt_batch_run_file(&o, work, "/dev/null", &r), 0);
    cr_assert_eq(r.read, 0);
    errno = 0;
    cr_assert_eq(evt_batch_run_file(&o, work, "/nonexistent/x", &r), -1);
    cr_assert_eq(errno, ENOENT);
}

static void interrupt_once(const evt_batch_task_t *t, int status,
                           const void *res, size_t len, void *user)
{
    (void)status, (void)res, (void)len;
    uint64_t *reported = user;
    if (t->index != (*reported)++)
        *reported = UINT64_MAX / 2; /* out of order: fails below */
    if (t->index == 0) {
        raise(SIGINT); /* its handler runs now: nothing starts after it */
        ctl[OPEN] = 1;
    }
}

Test(broker_ranges, a_signal_stops_new_chunks_and_reports_the_lines_read)
{
    write_file();
    uint64_t reported = 0;
    /* The first chunk (64 KiB, about 6000 lines) runs; the ones started
     * beside it are held until line 0 is reported and the signal is in,
     * so the file's other chunks can never have started by then. */
    ctl[GATE] = 7000;
    ctl[OPEN] = 0;
    evt_batch_opts_t o = {.processes = 2, .coroutines = C, .ordered = 1,
                          .stop_on_signals = 1, .on_result = interrupt_once,
                          .user = &reported};
    evt_batch_report_t r;
    cr_assert_eq(evt_batch_run_file(&o, work, path, &r), 0);
    ctl[GATE] = -1;
    unlink(path);
    cr_assert_eq(r.signal, SIGINT);
    cr_assert(r.halted);
    cr_assert_lt(r.read, N, "no chunk starts after the signal");
    cr_assert_eq(reported, r.read, "every line read is reported, in order");
    cr_assert_eq(r.ok, r.read);
}
