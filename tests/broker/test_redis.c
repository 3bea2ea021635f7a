/* The Redis Streams source and sink of the batch engine: every item gets
 * exactly one result on coroutines and on worker processes; a SIGKILLed
 * worker's items are taken by the others; workers ride out a restart of
 * redis-server; a poison item ends in the dead-letter stream. */
#include "../common/workers.h"
#include "redis_server.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <stdatomic.h>

enum { N = 3000 };
static char bufs[N][24];
static const void *items[N];
static _Atomic unsigned *effects; /* side effects by item, shared memory */
static int hold_fd = -1; /* the item "hold" runs until this is readable */

static void make_items(size_t n)
{
    for (size_t i = 0; i < n; i++) {
        snprintf(bufs[i], sizeof bufs[i], "%zu", i);
        items[i] = bufs[i];
    }
}

/* The result of item "k" is "r<k>", and each run is counted. */
static int work(const evt_batch_task_t *t, void *out, size_t cap,
                size_t *len, void *user)
{
    int64_t *pause_ms = user;
    unsigned k = (unsigned)atoi(t->item);
    if (effects)
        effects[k]++;
    if (hold_fd >= 0 && t->len == 4 && memcmp(t->item, "hold", 4) == 0)
        evt_wait_fd(hold_fd, EVT_IN, -1);
    if (pause_ms && *pause_ms && evt_sleep(evt_now() + *pause_ms) < 0)
        return -1;
    if (t->len == 6 && memcmp(t->item, "poison", 6) == 0) {
        errno = EIO;
        return -1;
    }
    *len = (size_t)snprintf(out, cap, "r%.*s", (int)t->len,
                            (const char *)t->item);
    return 0;
}

typedef struct check {
    uint64_t seen, with, bad;
} check_t;

static int check_one(uint64_t index, const void *item, size_t len,
                     const void *res, size_t rlen, void *user)
{
    check_t *c = user;
    char want[32];
    int wl = snprintf(want, sizeof want, "r%.*s", (int)len,
                      (const char *)item);
    c->seen++;
    if (res) {
        c->with++;
        if (rlen != (size_t)wl || memcmp(res, want, rlen) != 0 ||
            index != (uint64_t)atoi(item))
            c->bad++;
    }
    return 0;
}

static void expect_all_done(const srv_t *s, size_t n)
{
    evt_redis_stat_t st;
    cr_assert_eq(evt_redis_stat(s->url, &st), 0);
    cr_assert_eq(st.items, n);
    cr_assert_eq(st.results, n);
    cr_assert_eq(st.pending, 0);
    cr_assert_eq(st.dead, 0);
    check_t c = {0};
    cr_assert_eq(evt_redis_results(s->url, check_one, &c), 0);
    cr_assert_eq(c.seen, n);
    cr_assert_eq(c.with, n);
    cr_assert_eq(c.bad, 0);
}

Test(redis, every_item_one_result_on_coroutines)
{
    srv_t s;
    cr_assert_eq(srv_new(&s, "co"), 0);
    make_items(N);
    cr_assert_eq(evt_redis_submit(s.url, items, NULL, N), 0);
    evt_batch_opts_t o = {.coroutines = 32};
    evt_redis_opts_t ro = {.count = 100};
    evt_batch_report_t rep;
    cr_assert_eq(evt_batch_run_redis(&o, work, s.url, &ro, &rep), 0);
    cr_assert_eq(rep.ok, N);
    cr_assert_eq(rep.failed, 0);
    expect_all_done(&s, N);
    /* A drained batch returns at once. */
    cr_assert_eq(evt_batch_run_redis(&o, work, s.url, &ro, &rep), 0);
    cr_assert_eq(rep.read, 0);
    cr_assert_eq(evt_redis_drop(s.url), 0);
    evt_redis_stat_t st; /* gone, and looking does not make it again */
    cr_assert_eq(evt_redis_stat(s.url, &st), -1);
    cr_assert_eq(errno, ENOENT);
    cr_assert_eq(st.items, 0);
    cr_assert_eq(srv_int(&s, "EXISTS eventor:{co}:items"), 0);
    srv_free(&s);
}

Test(redis, every_item_one_result_on_worker_processes)
{
    srv_t s;
    cr_assert_eq(srv_new(&s, "procs"), 0);
    make_items(1000);
    cr_assert_eq(evt_redis_submit(s.url, items, NULL, 1000), 0);
    evt_batch_opts_t o = {.coroutines = 8, .processes = 3};
    evt_batch_report_t rep;
    cr_assert_eq(evt_batch_run_redis(&o, work, s.url, NULL, &rep), 0,
                 "%s", strerror(errno));
    cr_assert_eq(rep.ok, 1000);
    expect_all_done(&s, 1000);
    srv_free(&s);
}

Test(redis, poison_item_goes_to_the_dead_letters)
{
    srv_t s;
    cr_assert_eq(srv_new(&s, "poison"), 0);
    make_items(50);
    items[17] = "poison";
    cr_assert_eq(evt_redis_submit(s.url, items, NULL, 50), 0);
    evt_batch_opts_t o = {.coroutines = 4, .retries = 1};
    evt_redis_opts_t ro = {.visibility_ms = 100, .max_deliveries = 3};
    evt_batch_report_t rep;
    cr_assert_eq(evt_batch_run_redis(&o, work, s.url, &ro, &rep), 0);
    cr_assert_eq(rep.ok, 49);
    cr_assert_eq(rep.failed, 3, "delivered max_deliveries times");
    evt_redis_stat_t st;
    cr_assert_eq(evt_redis_stat(s.url, &st), 0);
    cr_assert_eq(st.results, 49);
    cr_assert_eq(st.dead, 1);
    cr_assert_eq(st.pending, 0);
    srv_free(&s);
}

/* K workers, each its own process and consumer; run until done. */
static pid_t start_worker_vis(const srv_t *s, int64_t pause_ms, int k,
                              int64_t vis_ms)
{
    pid_t pid = fork();
    if (pid != 0)
        return pid;
    static int64_t p;
    p = pause_ms;
    char name[16];
    snprintf(name, sizeof name, "w%d", k);
    evt_batch_opts_t o = {.coroutines = 8, .user = &p};
    evt_redis_opts_t ro = {.consumer = name, .visibility_ms = vis_ms,
                           .count = 16, .down_ms = 30000};
    evt_batch_report_t rep;
    _exit(evt_batch_run_redis(&o, work, s->url, &ro, &rep) == 0 ? 0 : 1);
}

static pid_t start_worker(const srv_t *s, int64_t pause_ms, int k)
{
    return start_worker_vis(s, pause_ms, k, 300);
}

/* Wait (with a deadline) until at least n results are stored, looking
 * every poll_ms. */
static void wait_results_every(const srv_t *s, long long n, long poll_ms)
{
    char cmd[96];
    snprintf(cmd, sizeof cmd, "HLEN eventor:{%s}:results",
             strrchr(s->url, '/') + 1);
    int64_t deadline = evt_now() + 30000;
    while (srv_int(s, cmd) < n && evt_now() < deadline)
        nanosleep(&(struct timespec){0, poll_ms * 1000000}, NULL); /* poll */
    cr_assert_geq(srv_int(s, cmd), n);
}

static void wait_results(const srv_t *s, long long n)
{
    wait_results_every(s, n, 5);
}

static void join_worker(pid_t pid)
{
    int st;
    cr_assert_eq(waitpid(pid, &st, 0), pid);
    cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "worker status %d", st);
}

Test(redis, sigkilled_worker_items_are_reclaimed)
{
    srv_t s;
    cr_assert_eq(srv_new(&s, "kill"), 0);
    enum { M = 1500 };
    make_items(M);
    effects = evt_ipc_array_new(M, sizeof *effects);
    cr_assert_not_null(effects);
    cr_assert_eq(evt_redis_submit(s.url, items, NULL, M), 0);
    pid_t w[3];
    for (int k = 0; k < 3; k++)
        w[k] = start_worker(&s, 2, k);
    wait_results(&s, 200);
    kill(w[0], SIGKILL);
    waitpid(w[0], NULL, 0);
    join_worker(w[1]);
    join_worker(w[2]);
    expect_all_done(&s, M);
    unsigned twice = 0;
    for (int i = 0; i < M; i++) {
        cr_assert_geq(effects[i], 1, "item %d never ran", i);
        twice += effects[i] - 1;
    }
    /* Only what the dead worker had taken may have run twice. */
    cr_assert_leq(twice, 16 * 2 + 8);
    evt_ipc_array_free(effects);
    effects = NULL;
    srv_free(&s);
}

Test(redis, workers_ride_out_a_redis_restart)
{
    srv_t s;
    cr_assert_eq(srv_new(&s, "restart"), 0);
    make_items(N);
    cr_assert_eq(evt_redis_submit(s.url, items, NULL, N), 0);
    pid_t w[2];
    for (int k = 0; k < 2; k++)
        w[k] = start_worker(&s, 1, k);
    wait_results(&s, 300);
    srv_stop(&s);
    cr_assert_eq(srv_start(&s), 0);
    join_worker(w[0]);
    join_worker(w[1]);
    expect_all_done(&s, N);
    srv_free(&s);
}

Test(redis, a_key_of_another_type_is_an_error_not_a_hang)
{
    srv_t s;
    cr_assert_eq(srv_new(&s, "wrong"), 0);
    redisContext *c = srv_conn(&s);
    freeReplyObject(redisCommand(c, "SET eventor:{wrong}:items x"));
    redisFree(c);
    evt_batch_opts_t o = {.coroutines = 2};
    evt_batch_report_t rep;
    errno = 0;
    cr_assert_eq(evt_batch_run_redis(&o, work, s.url, NULL, &rep), -1);
    cr_assert_eq(errno, EPROTO);
    make_items(3);
    cr_assert_eq(evt_redis_submit(s.url, items, NULL, 3), -1);
    cr_assert_eq(errno, EPROTO);
    srv_free(&s);
}

Test(redis, a_pause_beyond_the_command_deadline_is_ridden_out)
{
    srv_t s;
    cr_assert_eq(srv_new(&s, "pause"), 0);
    make_items(500);
    cr_assert_eq(evt_redis_submit(s.url, items, NULL, 500), 0);
    /* Writes are held 1 s, ten times a command's deadline: each command
     * gives up, its connection is made again, and the batch goes on. */
    redisContext *c = srv_conn(&s);
    redisReply *p = redisCommand(c, "CLIENT PAUSE 1000 WRITE");
    cr_assert(p && p->type == REDIS_REPLY_STATUS);
    freeReplyObject(p);
    redisFree(c);
    evt_batch_opts_t o = {.coroutines = 8};
    evt_redis_opts_t ro = {.command_ms = 100, .down_ms = 20000};
    evt_batch_report_t rep;
    cr_assert_eq(evt_batch_run_redis(&o, work, s.url, &ro, &rep), 0);
    expect_all_done(&s, 500);
    srv_free(&s);
}

Test(redis, an_item_submitted_to_a_waiting_worker_is_taken_at_once)
{
    srv_t s;
    cr_assert_eq(srv_new(&s, "wait"), 0);
    int p[2];
    cr_assert_eq(pipe(p), 0);
    const void *hold[] = {"hold"};
    cr_assert_eq(evt_redis_submit(s.url, hold, NULL, 1), 0);
    hold_fd = p[0];
    /* Visibility 30 s: the worker looks for idle items every 200 ms. */
    pid_t w = start_worker_vis(&s, 0, 0, 30000);
    hold_fd = -1;
    close(p[0]);
    /* The worker holds "hold" and waits for more, one item at a time:
     * each is handed out when it comes, not at the worker's next look
     * (which would take 20 x 200 ms at least). */
    evt_redis_stat_t st = {0};
    int64_t dl = evt_now() + 30000;
    while (evt_redis_stat(s.url, &st) == 0 && st.pending < 1 &&
           evt_now() < dl)
        nanosleep(&(struct timespec){0, 1000000}, NULL); /* poll */
    cr_assert_eq(st.pending, 1);
    enum { M = 20 };
    make_items(M + 1);
    int64_t t0 = evt_now();
    for (int i = 1; i <= M; i++) {
        cr_assert_eq(evt_redis_submit(s.url, items + i, NULL, 1), 0);
        wait_results_every(&s, i, 1);
    }
    cr_assert_lt(evt_now() - t0, M * 200 / 2);
    cr_assert_eq(write(p[1], "x", 1), 1); /* "hold" may end */
    close(p[1]);
    join_worker(w);
    expect_all_done(&s, M + 1);
    srv_free(&s);
}

/* XAUTOCLAIM goes on from its cursor: idle items behind a long run of
 * live ones (more than one claim scans) are reached. */
Test(redis, idle_items_behind_a_long_pending_list_are_claimed)
{
    srv_t s;
    cr_assert_eq(srv_new(&s, "cursor"), 0);
    enum { LIVE = 1500, GHOST = 100 };
    make_items(LIVE + GHOST);
    cr_assert_eq(evt_redis_submit(s.url, items, NULL, LIVE + GHOST), 0);
    redisContext *c = srv_conn(&s);
    freeReplyObject(redisCommand(c, "XREADGROUP GROUP eventor live COUNT %d "
                                    "STREAMS eventor:{cursor}:items >", LIVE));
    redisReply *g = redisCommand(c, "XREADGROUP GROUP eventor ghost COUNT %d "
                                    "STREAMS eventor:{cursor}:items >", GHOST);
    cr_assert(g && g->type == REDIS_REPLY_ARRAY);
    redisReply *ents = g->element[0]->element[1];
    for (size_t i = 0; i < ents->elements; i++)
        freeReplyObject(redisCommand(c, "XCLAIM eventor:{cursor}:items "
            "eventor ghost 0 %s IDLE 3600000 JUSTID",
            ents->element[i]->element[0]->str));
    freeReplyObject(g);
    pid_t pid = fork();
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        evt_batch_opts_t o = {.coroutines = 8};
        evt_redis_opts_t ro = {.visibility_ms = 600000, .count = 16};
        evt_batch_report_t rep;
        _exit(evt_batch_run_redis(&o, work, s.url, &ro, &rep) == 0 ? 0 : 1);
    }
    /* The ghost's items get results (the live ones never do: the worker
     * is stopped then). */
    int64_t deadline = evt_now() + 30000;
    long long got;
    while ((got = srv_int(&s, "HLEN eventor:{cursor}:results")) < GHOST &&
           evt_now() < deadline)
        nanosleep(&(struct timespec){0, 5 * 1000000}, NULL); /* poll */
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    redisFree(c);
    cr_assert_eq(got, GHOST, "%lld of the idle items claimed", got);
    srv_free(&s);
}

/* A restarted or flushed script cache: EVALSHA's NOSCRIPT loads again. */
Test(redis, a_flushed_script_cache_is_loaded_again)
{
    srv_t s;
    cr_assert_eq(srv_new(&s, "flush"), 0);
    make_items(N);
    cr_assert_eq(evt_redis_submit(s.url, items, NULL, N), 0);
    pid_t w = start_worker(&s, 1, 0);
    wait_results(&s, 200);
    redisContext *c = srv_conn(&s);
    freeReplyObject(redisCommand(c, "SCRIPT FLUSH"));
    redisFree(c);
    join_worker(w);
    expect_all_done(&s, N);
    srv_free(&s);
}

/* A worker that is done leaves the group; one stopped with items held
 * hands them back (idle past any visibility timeout) and stays until
 * they are taken. */
Test(redis, done_workers_leave_the_group)
{
    srv_t s;
    cr_assert_eq(srv_new(&s, "leave"), 0);
    make_items(200);
    cr_assert_eq(evt_redis_submit(s.url, items, NULL, 200), 0);
    evt_batch_opts_t o = {.coroutines = 8};
    evt_redis_opts_t ro = {.consumer = "leaver"};
    evt_batch_report_t rep;
    cr_assert_eq(evt_batch_run_redis(&o, work, s.url, &ro, &rep), 0);
    evt_redis_consumer_t cs[4];
    cr_assert_eq(evt_redis_consumers(s.url, cs, 4), 0);
    expect_all_done(&s, 200);
    srv_free(&s);
}
