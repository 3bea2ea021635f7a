/* The eventor command: run a command per input item, GNU parallel style.
 * main() sets the process up (limits, the supervisor, signals), checks
 * every input before anything is written, and hands over to run.c. */
#include "broker.h"
#include "cli.h"
#include "fetch.h"
#include "misc.h"
#include "spell.h"

#include <errno.h>
#include <eventor.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <unistd.h>

static int stdin_flags = -1;

/* evt_read makes stdin non-blocking; the terminal or pipe is shared with
 * whoever started us, so give it back as it was. */
static void restore_stdin(void)
{
    if (stdin_flags >= 0)
        fcntl(0, F_SETFL, stdin_flags);
}

/* The job runner, once the options are in: 0, or the exit status. */
static int run_jobs(struct opts *o)
{
    limits_plan(o);
    if (!o->dry_run && ctlmaster_start(o) < 0) /* before the jobs' threads */
        return CLI_EXIT_ERROR;
    if (!o->dry_run)
        basefile_send();
    if (!o->dry_run && supervise_start() < 0)
        fprintf(stderr, "eventor: Warning: no supervisor (%s): a job's "
                        "children may outlive a killed eventor\n",
                strerror(errno));
    spawn_set(o);
    if (spawn_init(o->jobs) < 0) {
        cli_error("cannot start: %s", strerror(errno));
        return CLI_EXIT_ERROR;
    }
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGHUP);
    sigprocmask(SIG_BLOCK, &set, NULL);
    int sigfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);

    stdin_flags = fcntl(0, F_GETFL);
    atexit(restore_stdin);

    struct input *in = NULL; /* --pipe: pipe.c reads the input */
    int ok = o->pipe && !o->pipe_tee ? pipe_open(o) == 0
                                     : (in = input_open(o)) != NULL;
    ok = ok && header_rewrite(o) == 0; /* --header's {NAME}: before compiling */
    struct tmpl *t = ok ? tmpl_compile(o) : NULL;
    int rc = CLI_EXIT_ERROR;
    if (ok && !t) {
        if (errno != EINVAL) /* EINVAL: already said why */
            cli_error("out of memory");
    } else if (ok && joblog_open(o) == 0 && output_init(o) == 0 &&
               results_init(o) == 0)
        rc = run_all(o, in, t, sigfd);
    output_finish();
    results_finish();
    joblog_close();
    tmpl_free(t);
    pipe_close();
    input_close(in);
    header_free();
    return rc;
}

int main(int argc, char **argv)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    if (limits_floor() < 0)
        return CLI_EXIT_ERROR;
    if (plugin_requested(argc, argv))
        return plugin_main(argc, argv);
    if (fetch_requested(argc, argv))
        return fetch_main(argc, argv);
    if (broker_requested(argc, argv))
        return broker_main(argc, argv);
    static struct opts o;
    argv = sem_argv(&argc, argv); /* sem ARGS, eventor sem ARGS */
    if (shebang_wrap(argc, argv) < 0) /* a #! line's (gnumisc) */
        return CLI_EXIT_ERROR;
    argv = shebang_argv(&argc, argv); /* a #! line's */
    int rc = opts_parse(&o, argc, argv);
    if (rc)
        rc = rc > 0 ? 0 : CLI_EXIT_ERROR; /* > 0: --help, --version */
    else if (o.semaphore)
        rc = sem_main(&o);
    else if (sshlogin_plan(&o) < 0) /* reported */
        rc = CLI_EXIT_ERROR;
    else if (sshlogin_onall()) /* before the supervisor: its children only */
        rc = onall_main(&o, argc, argv);
    else
        rc = run_jobs(&o);
    if (!o.dry_run) { /* -S: --basefile --cleanup, -M's masters */
        basefile_remove();
        ctlmaster_stop();
    }
    sshlogin_free();
    opts_free(&o);
    return rc;
}
