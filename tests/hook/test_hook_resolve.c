/* Tests of src/hook/resolve.c: getaddrinfo and gethostbyname(_r) on a
 * coroutine run on the hooks' lookup pool (threads appear for it) and
 * answer as libc does; numeric hosts and plain threads stay where they
 * are; a cancelled caller gets EAI_SYSTEM with ECANCELED. */
#include "hook_test.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <netdb.h>
#include <pthread.h>

static int threads_now(void)
{
    DIR *d = opendir("/proc/self/task");
    int n = 0;
    for (struct dirent *e; (e = readdir(d));)
        n += e->d_name[0] != '.';
    closedir(d);
    return n;
}

/* 1 when localhost resolves to 127.0.0.1 (or ::1), else -errno/-EAI. */
static void *gai_localhost(void *arg)
{
    (void)arg;
    struct addrinfo hints = {.ai_family = AF_INET, .ai_socktype = SOCK_STREAM};
    struct addrinfo *res = NULL;
    int rc = getaddrinfo("localhost", "80", &hints, &res);
    if (rc)
        return CO_RESULT(rc == EAI_SYSTEM ? -errno : -1000 + rc);
    int ok = res && res->ai_family == AF_INET &&
             ((struct sockaddr_in *)res->ai_addr)->sin_port == htons(80) &&
             ((struct sockaddr_in *)res->ai_addr)->sin_addr.s_addr ==
                 htonl(INADDR_LOOPBACK);
    freeaddrinfo(res);
    return CO_RESULT(ok);
}

Test(hook_resolve, getaddrinfo_runs_on_the_pool_and_answers)
{
    int before = threads_now();
    enum { N = 20 };
    evt_co_t *co[N];
    for (int i = 0; i < N; i++)
        co[i] = evt_spawn(gai_localhost, NULL);
    for (int i = 0; i < N; i++)
        cr_assert_eq(join_int(co[i]), 1);
    cr_assert_gt(threads_now(), before, "no lookup thread was started");
}

Test(hook_resolve, unknown_name_is_eai_noname)
{
    struct addrinfo *res = NULL;
    int rc = getaddrinfo("no-such-host.invalid", NULL, NULL, &res);
    cr_assert(rc == EAI_NONAME || rc == EAI_AGAIN || rc == EAI_FAIL,
              "getaddrinfo: %s", gai_strerror(rc));
}

static void *gai_cancelled(void *arg)
{
    (void)arg;
    evt_cancel(evt_self());
    struct addrinfo *res = NULL;
    int rc = getaddrinfo("localhost", NULL, NULL, &res);
    if (rc == 0)
        freeaddrinfo(res);
    return CO_RESULT(rc == EAI_SYSTEM ? errno : 0);
}

Test(hook_resolve, cancelled_caller_gets_ecanceled)
{
    cr_assert_eq(join_int(evt_spawn(gai_cancelled, NULL)), ECANCELED);
}

static void *gai_numeric(void *arg)
{
    (void)arg;
    struct addrinfo *res = NULL;
    evt_cancel(evt_self()); /* numeric: no wait, so no ECANCELED */
    int rc = getaddrinfo("127.0.0.1", "8080", NULL, &res);
    if (rc == 0)
        freeaddrinfo(res);
    return CO_RESULT(rc);
}

Test(hook_resolve, numeric_host_answers_at_once)
{
    cr_assert_eq(join_int(evt_spawn(gai_numeric, NULL)), 0);
}

static void *ghbn(void *arg)
{
    (void)arg;
    struct hostent he, *r = NULL;
    char buf[2048];
    int herr = 0;
    int rc = gethostbyname_r("localhost", &he, buf, sizeof buf, &r, &herr);
    if (rc || !r)
        return CO_RESULT(-1);
    /* The answer points into our buf, not the pool's. */
    int inside = r->h_name >= buf && r->h_name < buf + sizeof buf &&
                 r->h_addr_list[0] >= buf && r->h_addr_list[0] < buf + sizeof buf;
    struct in_addr a;
    memcpy(&a, r->h_addr_list[0], sizeof a);
    struct hostent *g = gethostbyname("localhost");
    return CO_RESULT(inside && r->h_addrtype == AF_INET &&
                     a.s_addr == htonl(INADDR_LOOPBACK) && g &&
                     !strcmp(g->h_name, r->h_name));
}

Test(hook_resolve, gethostbyname_answers_into_the_callers_buffer)
{
    cr_assert_eq(join_int(evt_spawn(ghbn, NULL)), 1);
}

static void *plain_thread(void *arg)
{
    return gai_localhost(arg);
}

Test(hook_resolve, plain_thread_resolves_itself)
{
    pthread_t th;
    void *r;
    cr_assert_eq(pthread_create(&th, NULL, plain_thread, NULL), 0);
    pthread_join(th, &r);
    cr_assert_eq((int)(intptr_t)r, 1);
}
