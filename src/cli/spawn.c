/* Starting and stopping one job's process. fork+execve lets the child set
 * what posix_spawn cannot: a process group of its own, so a timeout kills
 * the whole job, and PR_SET_PDEATHSIG, so a job dies with eventor (a crash
 * or kill -9 then leaves no job finishing unlogged behind --resume's back).
 * Not vfork (nor posix_spawn, which is vfork inside): it holds eventor still
 * until the child's execve is under way, so starts are serialised behind
 * the kernel's exec; a fork of this small process costs less and lets many
 * execs proceed at once (5000 `true` jobs: 5.5 s with vfork, 3.0 s with
 * fork, on 2 CPUs). Exit is watched through a pidfd on the reactor. */
#include "cli.h"

#include <errno.h>
#include <eventor.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef P_PIDFD
#define P_PIDFD 3
#endif

extern char **environ;

static sigset_t child_mask; /* the signal mask eventor was started with */
static int devnull = -1;
static pid_t self_pid;

void spawn_init(void)
{
    sigprocmask(SIG_SETMASK, NULL, &child_mask);
    devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
    self_pid = getpid();
}

/* What the child needs. */
struct spawn_args {
    const char *path;
    char **argv;
    int out_fd, err_fd;
};

static _Noreturn void child(struct spawn_args *a)
{
    setpgid(0, 0);
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != self_pid) /* eventor died before the prctl */
        _exit(127);
    if ((devnull >= 0 ? dup2(devnull, 0) : close(0)) < 0 ||
        dup2(a->out_fd, 1) < 0 || dup2(a->err_fd, 2) < 0)
        _exit(127);
    sigprocmask(SIG_SETMASK, &child_mask, NULL);
    execve(a->path, a->argv, environ);
    int e = errno; /* the job's stderr is the temp file by now */
    dprintf(2, "eventor: %s: %s\n", a->argv[0],
            e == ENOENT ? "command not found" : strerror(e));
    _exit(e == ENOENT ? 127 : 126);
}


/* PATH lookups, remembered: most runs start the same program each time. */
struct pathent {
    char *name, *path;
    struct pathent *next;
};
static struct pathent *paths;

static const char *resolve(const char *name)
{
    if (strchr(name, '/') || !*name)
        return name;
    for (struct pathent *e = paths; e; e = e->next)
        if (!strcmp(e->name, name))
            return e->path;
    const char *env = getenv("PATH");
    if (!env)
        env = "/usr/local/bin:/usr/bin:/bin";
    char *found = NULL;
    size_t nl = strlen(name);
    for (const char *d = env; !found;) {
        const char *end = strchrnul(d, ':');
        size_t dl = (size_t)(end - d);
        char *p = malloc(dl + nl + 3);
        if (!p)
            break;
        memcpy(p, dl ? d : ".", dl ? dl : 1);
        p[dl ? dl : 1] = '/';
        strcpy(p + (dl ? dl : 1) + 1, name);
        struct stat st;
        if (stat(p, &st) == 0 && S_ISREG(st.st_mode) && access(p, X_OK) == 0)
            found = p;
        else
            free(p);
        if (!*end)
            break;
        d = end + 1;
    }
    struct pathent *e = malloc(sizeof *e);
    if (!e || !(e->name = strdup(name))) {
        free(e);
        free(found);
        return name;
    }
    e->path = found ? found : e->name; /* not found: execve says ENOENT */
    e->next = paths;
    paths = e;
    return e->path;
}

int proc_start(struct proc *p, char **argv, const char *cmd,
               const char *shell, int out_fd, int err_fd)
{
    char *sh_argv[] = {(char *)shell, "-c", (char *)cmd, NULL};
    struct spawn_args a = {.argv = argv ? argv : sh_argv,
                           .out_fd = out_fd, .err_fd = err_fd};
    a.path = argv ? resolve(argv[0]) : shell;
    pid_t pid = fork();
    if (pid == 0)
        child(&a);
    if (pid < 0)
        return -1;
    p->pid = pid;
    p->pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
    if (p->pidfd < 0) { /* cannot happen on Linux >= 5.3: reap it here */
        int e = errno;
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
        errno = e;
        return -1;
    }
    return 0;
}

int proc_wait(struct proc *p, int64_t deadline)
{
    return evt_wait_fd(p->pidfd, EVT_IN, deadline) < 0 ? -1 : 0;
}

void proc_terminate(struct proc *p)
{
    static const struct { int sig; int ms; } seq[] = {
        {SIGTERM, 200}, {SIGTERM, 100}, {SIGTERM, 50}, {SIGKILL, 25}};
    for (size_t i = 0; i < sizeof seq / sizeof seq[0]; i++) {
        if (kill(-p->pid, seq[i].sig) < 0 && errno == ESRCH)
            kill(p->pid, seq[i].sig);
        if (proc_wait(p, evt_now() + seq[i].ms) == 0)
            return;
    }
    proc_wait(p, -1);
}

void proc_reap(struct proc *p, int *exitval, int *sig)
{
    siginfo_t si;
    memset(&si, 0, sizeof si);
    while (waitid((idtype_t)P_PIDFD, (id_t)p->pidfd, &si, WEXITED) < 0 &&
           errno == EINTR)
        ;
    evt_close(p->pidfd);
    p->pidfd = -1;
    if (si.si_code == CLD_EXITED) {
        *exitval = si.si_status;
        *sig = 0;
    } else {
        *exitval = 0;
        *sig = si.si_status;
    }
}
