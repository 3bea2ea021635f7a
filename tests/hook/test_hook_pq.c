/* libpq made cooperative by the hooks alone, against a PostgreSQL the test
 * starts (initdb + pg_ctl in a temporary directory, on a free port; as the
 * postgres user when run as root, since postgres refuses root): 100
 * coroutines, each with its own connection, run SELECT pg_sleep(0.1) at
 * once. */
#include "hook_test.h"

#include <libpq-fe.h>
#include <glob.h>
#include <pwd.h>
#include <stdlib.h>

enum { CONNS = 100 };

static char dir[64], conninfo[160];
static int as_postgres; /* run the server's programs through runuser */

/* Run argv (through runuser -u postgres when root) and wait: its status. */
static int run(char *const argv[])
{
    char *full[16];
    int n = 0;
    if (as_postgres) {
        full[n++] = "runuser";
        full[n++] = "-u";
        full[n++] = "postgres";
        full[n++] = "--";
    }
    for (int i = 0; argv[i] && n < 15; i++)
        full[n++] = argv[i];
    full[n] = NULL;
    pid_t pid;
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    int rc = posix_spawnp(&pid, full[0], &fa, NULL, full, environ);
    posix_spawn_file_actions_destroy(&fa);
    if (rc)
        return -1;
    int st;
    if (waitpid(pid, &st, 0) != pid)
        return -1;
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static int on_path(const char *prog)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "command -v %s >/dev/null 2>&1", prog);
    return system(cmd) == 0;
}

/* Start the server, or skip the test saying why it cannot be. */
static void pg_start(void)
{
    /* Debian keeps them out of PATH, in /usr/lib/postgresql/<v>/bin. */
    glob_t g;
    if (!on_path("initdb") &&
        glob("/usr/lib/postgresql/*/bin/initdb", 0, NULL, &g) == 0) {
        char path[4096];
        *strrchr(g.gl_pathv[g.gl_pathc - 1], '/') = 0;
        snprintf(path, sizeof path, "%s:%s", g.gl_pathv[g.gl_pathc - 1],
                 getenv("PATH") ? getenv("PATH") : "/usr/bin:/bin");
        setenv("PATH", path, 1);
        globfree(&g);
    }
    if (!on_path("initdb") || !on_path("pg_ctl"))
        cr_skip_test("initdb/pg_ctl not on PATH (Debian: postgresql, "
                     "/usr/lib/postgresql/15/bin)");
    struct passwd *pw = NULL;
    if (geteuid() == 0) {
        pw = getpwnam("postgres");
        if (!pw || !on_path("runuser"))
            cr_skip_test("running as root without a postgres user and runuser: "
                         "PostgreSQL refuses to run as root");
        as_postgres = 1;
    }
    snprintf(dir, sizeof dir, "/tmp/evt_hook_pgXXXXXX");
    cr_assert_not_null(mkdtemp(dir));
    if (pw)
        cr_assert_eq(chown(dir, pw->pw_uid, pw->pw_gid), 0);
    char data[96], log[96], opts[256];
    snprintf(data, sizeof data, "%s/data", dir);
    snprintf(log, sizeof log, "%s/log", dir);
    int port = free_port();
    cr_assert_eq(run((char *[]){"initdb", "-D", data, "-A", "trust", "-U",
                                "evt", "--no-sync", "-E", "UTF8", NULL}),
                 0, "initdb failed");
    snprintf(opts, sizeof opts,
             "-p %d -k %s -c listen_addresses=127.0.0.1 -c max_connections=%d "
             "-c fsync=off",
             port, dir, CONNS + 20);
    cr_assert_eq(run((char *[]){"pg_ctl", "-D", data, "-l", log, "-o", opts,
                                "-w", "-t", "60", "start", NULL}),
                 0, "pg_ctl start failed (see %s)", log);
    snprintf(conninfo, sizeof conninfo,
             "host=127.0.0.1 port=%d user=evt dbname=postgres", port);
}

static void pg_stop(void)
{
    char data[96];
    snprintf(data, sizeof data, "%s/data", dir);
    run((char *[]){"pg_ctl", "-D", data, "-m", "immediate", "-w", "stop", NULL});
    as_postgres = 0;
    run((char *[]){"rm", "-rf", dir, NULL});
}

static PGconn *conns[CONNS];

static void *connector(void *arg)
{
    PGconn **c = arg;
    *c = PQconnectdb(conninfo);
    return CO_RESULT(PQstatus(*c) == CONNECTION_OK ? 0 : 1);
}

static void *sleeper(void *arg)
{
    PGresult *r = PQexec(arg, "SELECT pg_sleep(0.1)");
    int ok = PQresultStatus(r) == PGRES_TUPLES_OK;
    PQclear(r);
    return CO_RESULT(ok ? 0 : 1);
}

Test(hook_pq, pg_sleep_on_100_connections_at_once)
{
    pg_start();
    evt_set_stack_size(256 * 1024);
    evt_co_t *co[CONNS];
    for (int i = 0; i < CONNS; i++)
        co[i] = evt_spawn(connector, &conns[i]);
    int bad = 0;
    for (int i = 0; i < CONNS; i++)
        bad += join_int(co[i]);
    if (bad) {
        const char *msg = PQerrorMessage(conns[0]);
        pg_stop();
        cr_assert_fail("%d connections failed: %s", bad, msg);
    }
    int64_t t0 = evt_now();
    for (int i = 0; i < CONNS; i++)
        co[i] = evt_spawn(sleeper, conns[i]);
    for (int i = 0; i < CONNS; i++)
        bad += join_int(co[i]);
    int64_t took = evt_now() - t0;
    for (int i = 0; i < CONNS; i++)
        PQfinish(conns[i]);
    pg_stop();
    cr_assert_eq(bad, 0);
    /* 100 x 0.1 s is 10 s one after another; together about 0.1 s. */
    cr_assert_lt(took, 3000, "took %lld ms", (long long)took);
    cr_log_info("100 pg_sleep(0.1) in %lld ms", (long long)took);
}
