/* The shell jobs run in, chosen as GNU parallel chooses it:
 * $PARALLEL_SHELL, else the nearest ancestor process that is a shell (by
 * its argv[0], looked up in $PATH by name), else $SHELL, else /bin/sh; and
 * which directly runnable lines still need it (bash's exported functions). */
#include "cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* GNU parallel's "all shells known to mankind". */
static const char *const shells[] = {
    "ash", "bash", "bsd-csh", "csh", "dash", "fdsh", "fish", "fizsh", "ksh",
    "ksh93", "lksh", "mksh", "pdksh", "posh", "rbash", "rc", "rush", "rzsh",
    "sash", "sh", "static-sh", "tcsh", "yash", "zsh", NULL};

static char picked[4096];
static int is_bash;

/* name[0..len) is a shell's name. */
static int known(const char *name, size_t len)
{
    for (const char *const *s = shells; *s; s++)
        if (strlen(*s) == len && !memcmp(*s, name, len))
            return 1;
    return 0;
}

/* GNU parallel's regexp on argv[0]: [-?NAME], or (busybox |DIR/)-?NAME,
 * then the end, blanks, or a blank and no '('. The name (into name), and
 * whether a '-' came before it (a login shell). */
static int shell_name(const char *a0, char *name, size_t cap, int *dash)
{
    const char *p = a0, *end;
    if (*p == '[') {
        p++;
        if ((*dash = *p == '-'))
            p++;
        end = strchr(p, ']');
        if (!end)
            return 0;
        size_t l = (size_t)(end - p);
        if (!known(p, l) || l >= cap)
            return 0;
        memcpy(name, p, l);
        name[l] = 0;
        end++;
    } else {
        size_t word = strcspn(p, " "); /* \S+/: up to the last / in it */
        const char *slash = memrchr(p, '/', word);
        if (!strncmp(p, "busybox ", 8))
            p += 8;
        else if (slash)
            p = slash + 1;
        if ((*dash = *p == '-'))
            p++;
        size_t l = strcspn(p, " ");
        if (!known(p, l) || l >= cap)
            return 0;
        memcpy(name, p, l);
        name[l] = 0;
        end = p + l;
    }
    if (!*end || !end[strspn(end, " ")])
        return 1;
    return end[0] == ' ' && end[1] != '(';
}

/* which(1) as GNU parallel's: the first executable of that name in $PATH,
 * into picked. */
static int which(const char *name)
{
    const char *p = proc_which(name);
    return p && snprintf(picked, sizeof picked, "%s", p) < (int)sizeof picked;
}

/* /proc/pid/what into buf (NUL-terminated): 0, or -1. */
static int read_proc(long pid, const char *what, char *buf, size_t cap)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%ld/%s", pid, what);
    FILE *f = fopen(path, "re");
    if (!f)
        return -1;
    size_t n = fread(buf, 1, cap - 1, f);
    fclose(f);
    buf[n] = 0;
    return 0;
}

/* The parent of pid from /proc/pid/stat (after the command's ')'). */
static long parent_of(long pid)
{
    char buf[512];
    if (read_proc(pid, "stat", buf, sizeof buf) < 0)
        return 0;
    char *p = strrchr(buf, ')');
    long ppid = 0;
    if (!p || sscanf(p + 1, " %*c %ld", &ppid) != 1)
        return 0;
    return ppid;
}

/* GNU parallel's parent_shell: 1 with picked set, 0 when none is found. */
static int parent_shell(void)
{
    for (long pid = getpid(); pid > 0; pid = parent_of(pid)) {
        char path[64], a0[512], name[32];
        if (read_proc(pid, "cmdline", a0, sizeof a0) < 0)
            return 0; /* a0: its argv[0], up to the first NUL */
        int dash;
        if (!shell_name(a0, name, sizeof name, &dash))
            continue;
        if (!strcmp(name, "sh") && dash) { /* -sh: which shell it is */
            snprintf(path, sizeof path, "/proc/%ld/exe", pid);
            ssize_t l = readlink(path, picked, sizeof picked - 1);
            if (l > 0) {
                picked[l] = 0;
                const char *base = strrchr(picked, '/');
                if (base && known(base + 1, strlen(base + 1)))
                    return 1;
            }
        }
        return which(name);
    }
    return 0;
}

const char *usershell_pick(void)
{
    const char *s = getenv("PARALLEL_SHELL");
    if (s && *s)
        snprintf(picked, sizeof picked, "%s", s);
    else if (!parent_shell()) {
        s = getenv("SHELL");
        snprintf(picked, sizeof picked, "%s", s && *s ? s : "/bin/sh");
    }
    const char *base = strrchr(picked, '/');
    base = base ? base + 1 : picked;
    is_bash = !strcmp(base, "bash") || !strcmp(base, "rbash");
    return picked;
}

int usershell_needed(char *const *argv)
{
    if (!argv || !is_bash)
        return 0;
    /* bash's export -f: BASH_FUNC_name%%=() { ... } */
    char var[256];
    if (snprintf(var, sizeof var, "BASH_FUNC_%s%%%%", argv[0]) >=
        (int)sizeof var)
        return 0;
    return getenv(var) != NULL;
}
