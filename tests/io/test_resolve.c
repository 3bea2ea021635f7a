/* Tests of src/io/resolve.c: numeric hosts resolve inline, names on the IO
 * pool while the caller's thread keeps running, errors map to errno, and a
 * lookup given up at its deadline or by a cancel is freed when it ends on
 * its pool thread. The pool threads call a stand-in resolver
 * (evt__getaddrinfo), so no test depends on a name server. */
#include "io_test.h"
#include "io/io.h"

#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <stdatomic.h>
#include <string.h>
#if defined(EVT_ASAN)
#include <sanitizer/lsan_interface.h>
#endif

static pthread_t test_thread;
static atomic_int calls;         /* lookups the stand-in saw */
static atomic_int off_thread;    /* ... of which on another thread */
static atomic_int signals_blocked; /* ... of which with every signal blocked */
static sem_t release;            /* a blocked stand-in waits for this */
static sem_t entered;            /* posted when a stand-in starts */
static int fail_with;            /* EAI_* the failing stand-in returns */

static void note_call(void)
{
    atomic_fetch_add(&calls, 1);
    if (!pthread_equal(pthread_self(), test_thread))
        atomic_fetch_add(&off_thread, 1);
    sigset_t m;
    pthread_sigmask(SIG_SETMASK, NULL, &m);
    if (sigismember(&m, SIGTERM) && sigismember(&m, SIGINT) &&
        sigismember(&m, SIGPIPE))
        atomic_fetch_add(&signals_blocked, 1);
}

/* Answers every name with 127.0.0.1, which is what getaddrinfo hands back
 * for "localhost" here, without reading any file. */
static int loopback_resolver(const char *host, const char *serv,
                             const struct addrinfo *hints,
                             struct addrinfo **res)
{
    (void)host;
    note_call();
    return getaddrinfo("127.0.0.1", serv, hints, res);
}

static int blocked_resolver(const char *host, const char *serv,
                            const struct addrinfo *hints,
                            struct addrinfo **res)
{
    sem_post(&entered);
    while (sem_wait(&release) < 0)
        ;
    return loopback_resolver(host, serv, hints, res);
}

static int failing_resolver(const char *host, const char *serv,
                            const struct addrinfo *hints,
                            struct addrinfo **res)
{
    (void)host, (void)serv, (void)hints, (void)res;
    note_call();
    errno = EMFILE; /* for EAI_SYSTEM */
    return fail_with;
}

static void setup(void)
{
    test_thread = pthread_self();
    atomic_store(&calls, 0);
    atomic_store(&off_thread, 0);
    atomic_store(&signals_blocked, 0);
    sem_init(&release, 0, 0);
    sem_init(&entered, 0, 0);
    evt__getaddrinfo = loopback_resolver;
}

static void teardown(void)
{
    evt__getaddrinfo = getaddrinfo;
    sem_destroy(&release);
    sem_destroy(&entered);
}

TestSuite(resolve, .init = setup, .fini = teardown);

/* Wait until every lookup has ended and been freed (one given up on ends
 * on its pool thread later), and (in the sanitizer build) check that
 * nothing of them was left behind: a leak would otherwise only be printed
 * at exit. */
static void wait_lookups_home(void)
{
    int64_t end = evt_now() + 10000;
    while (evt__lookups_live() && evt_now() < end)
        evt_sleep(evt_now() + 1);
    cr_assert_eq(evt__lookups_live(), 0, "a lookup never ended");
#if defined(EVT_ASAN)
    cr_assert_eq(__lsan_do_recoverable_leak_check(), 0, "leaks");
#endif
}

static int port_of(const struct addrinfo *ai)
{
    if (ai->ai_family == AF_INET)
        return ntohs(((const struct sockaddr_in *)ai->ai_addr)->sin_port);
    return ntohs(((const struct sockaddr_in6 *)ai->ai_addr)->sin6_port);
}

Test(resolve, numeric_hosts_resolve_inline)
{
    struct addrinfo *res;
    cr_assert_eq(evt__resolve("127.0.0.1", 8080, -1, &res), 0);
    cr_assert_eq(res->ai_family, AF_INET);
    cr_assert_eq(port_of(res), 8080);
    freeaddrinfo(res);
    cr_assert_eq(evt__resolve("::1", 80, 0, &res), 0);
    cr_assert_eq(res->ai_family, AF_INET6);
    freeaddrinfo(res);
    cr_assert_eq(atomic_load(&calls), 0, "a numeric host went to a thread");
}

Test(resolve, names_resolve_on_another_thread)
{
    struct addrinfo *res;
    cr_assert_eq(evt__resolve("db.example", 5432, evt_now() + 5000, &res), 0);
    cr_assert_eq(res->ai_family, AF_INET);
    cr_assert_eq(port_of(res), 5432);
    freeaddrinfo(res);
    cr_assert_eq(atomic_load(&calls), 1);
    cr_assert_eq(atomic_load(&off_thread), 1);
    cr_assert_eq(atomic_load(&signals_blocked), 1);
    wait_lookups_home();
}

struct lookup_arg {
    const char *host;
    int64_t deadline;
};

static void *lookup_co(void *arg)
{
    struct lookup_arg *a = arg;
    struct addrinfo *res;
    if (evt__resolve(a->host, 80, a->deadline, &res) < 0)
        return CO_RESULT(errno);
    freeaddrinfo(res);
    return CO_RESULT(0);
}

static void *ticker(void *arg)
{
    int *ticks = arg;
    for (;;) {
        if (evt_sleep(evt_now() + 1) < 0)
            return NULL;
        ++*ticks;
    }
}

Test(resolve, the_callers_thread_keeps_running)
{
    evt__getaddrinfo = blocked_resolver;
    struct lookup_arg a = {"slow.example", evt_now() + 10000};
    evt_co_t *co = evt_spawn(lookup_co, &a);
    int ticks = 0;
    evt_co_t *t = evt_spawn(ticker, &ticks);
    settle();
    while (sem_wait(&entered) < 0)
        ;
    /* The lookup is stuck in its thread; this one goes on. */
    while (ticks < 3)
        evt_sleep(evt_now() + 1);
    sem_post(&release);
    cr_assert_eq(join_int(co), 0);
    evt_cancel(t);
    join_int(t);
}

Test(resolve, deadline_while_looking_up)
{
    evt__getaddrinfo = blocked_resolver;
    struct lookup_arg a = {"slow.example", evt_now() + 30};
    int64_t t0 = evt_now();
    cr_assert_eq(join_int(evt_spawn(lookup_co, &a)), ETIMEDOUT);
    cr_assert_geq(evt_now(), t0 + 30);
    /* The answer comes later and is freed on the pool thread
     * (LeakSanitizer checks in the sanitizer build). */
    sem_post(&release);
    wait_lookups_home();
    cr_assert_eq(atomic_load(&calls), 1);
}

Test(resolve, cancel_while_looking_up)
{
    evt__getaddrinfo = blocked_resolver;
    struct lookup_arg a = {"slow.example", -1};
    evt_co_t *co = evt_spawn(lookup_co, &a);
    settle();
    while (sem_wait(&entered) < 0)
        ;
    cr_assert_eq(evt_cancel(co), 0);
    cr_assert_eq(join_int(co), ECANCELED);
    sem_post(&release);
    wait_lookups_home();
}

Test(resolve, deadline_zero_starts_no_lookup)
{
    struct addrinfo *res;
    cr_assert_eq(evt__resolve("any.example", 80, 0, &res), -1);
    cr_assert_eq(errno, ETIMEDOUT);
    cr_assert_eq(atomic_load(&calls), 0);
}

Test(resolve, many_lookups_at_once)
{
    enum { N = 50 };
    evt_co_t *co[N];
    struct lookup_arg a = {"many.example", evt_now() + 10000};
    for (int i = 0; i < N; i++)
        co[i] = evt_spawn(lookup_co, &a);
    for (int i = 0; i < N; i++)
        cr_assert_eq(join_int(co[i]), 0);
    cr_assert_eq(atomic_load(&calls), N);
    wait_lookups_home();
}

Test(resolve, errors_map_to_errno)
{
    evt__getaddrinfo = failing_resolver;
    static const struct {
        int eai, err;
    } cases[] = {
        {EAI_NONAME, EADDRNOTAVAIL}, {EAI_AGAIN, EAGAIN},
        {EAI_FAIL, EADDRNOTAVAIL},   {EAI_MEMORY, ENOMEM},
        {EAI_SYSTEM, EMFILE},        {EAI_SERVICE, EINVAL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        fail_with = cases[i].eai;
        struct addrinfo *res;
        cr_assert_eq(evt__resolve("bad.example", 80, evt_now() + 5000, &res),
                     -1);
        cr_assert_eq(errno, cases[i].err, "EAI %d gave %s", cases[i].eai,
                     strerror(errno));
    }
    /* And through the public call. */
    fail_with = EAI_NONAME;
    cr_assert_eq(evt_tcp_connect("bad.example", 80, evt_now() + 5000), -1);
    cr_assert_eq(errno, EADDRNOTAVAIL);
}

Test(resolve, real_getaddrinfo_for_localhost)
{
    evt__getaddrinfo = getaddrinfo;
    struct addrinfo *res;
    cr_assert_eq(evt__resolve("localhost", 80, evt_now() + 10000, &res), 0);
    cr_assert_not_null(res);
    freeaddrinfo(res);
    /* A deadline that passes during the lookup, answer freed later. */
    int rc = evt__resolve("localhost", 80, evt_now() + 1, &res);
    if (rc == 0)
        freeaddrinfo(res);
    else
        cr_assert_eq(errno, ETIMEDOUT);
    wait_lookups_home();
}

Test(resolve, tcp_connect_by_name_uses_the_thread)
{
    int port, lfd = lo_listen(&port);
    int c = evt_tcp_connect("svc.example", port, evt_now() + 5000);
    cr_assert_geq(c, 0, "%s", strerror(errno));
    cr_assert_eq(atomic_load(&off_thread), 1);
    evt_close(c);
    evt_close(lfd);
    wait_lookups_home();
}
