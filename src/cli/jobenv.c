/* The environment of a job: eventor's own, plus GNU parallel's variables
 * for it (PARALLEL_SEQ, PARALLEL_JOBSLOT, PARALLEL_JOBSLOT0, PARALLEL_PID,
 * PARALLEL_SSHLOGIN and PARALLEL_SSHHOST: ':'; the host groups' with
 * --hostgroups).
 * Built per job on the main thread, handed to execve by the spawner. */
#include "cli.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

extern char **environ;

static char **base;  /* environ without the variables set here */
static size_t nbase;

static int ours(const char *e)
{
    static const char *const names[] = {"PARALLEL_SEQ=", "PARALLEL_JOBSLOT=",
                                        "PARALLEL_JOBSLOT0=", "PARALLEL_PID=",
                                        "PARALLEL_SSHLOGIN=",
                                        "PARALLEL_SSHHOST=",
                                        "PARALLEL_HOSTGROUPS=",
                                        "PARALLEL_ARGHOSTGROUPS="};
    size_t n = sizeof names / sizeof names[0] - (SSH.hostgroups ? 0 : 2);
    for (size_t i = 0; i < n; i++) /* the groups': only with --hostgroups */
        if (!strncmp(e, names[i], strlen(names[i])))
            return 1;
    return 0;
}

int jobenv_init(void)
{
    size_t n = 0;
    while (environ[n])
        n++;
    base = malloc((n + 1) * sizeof *base);
    if (!base)
        return -1;
    for (size_t i = 0; i < n; i++)
        if (!ours(environ[i]))
            base[nbase++] = environ[i];
    return 0;
}

char **jobenv_build(uint64_t seq, int slot)
{
    return jobenv_build_more(seq, slot, NULL, NULL);
}

char **jobenv_build_more(uint64_t seq, int slot, const char *a, const char *b)
{
    enum { NVARS = 6, VARLEN = 48 };
    size_t la = a ? strlen(a) + 1 : 0, lb = b ? strlen(b) + 1 : 0;
    size_t nmore = (a != NULL) + (b != NULL);
    char **env = malloc((nbase + NVARS + nmore + 1) * sizeof *env +
                        NVARS * VARLEN + la + lb);
    if (!env)
        return NULL;
    char *buf = (char *)(env + nbase + NVARS + nmore + 1);
    memcpy(env, base, nbase * sizeof *env);
    for (int i = 0; i < NVARS; i++)
        env[nbase + (size_t)i] = buf + i * VARLEN;
    snprintf(env[nbase], VARLEN, "PARALLEL_SEQ=%llu", (unsigned long long)seq);
    snprintf(env[nbase + 1], VARLEN, "PARALLEL_JOBSLOT=%d", slot);
    snprintf(env[nbase + 2], VARLEN, "PARALLEL_JOBSLOT0=%d", slot - 1);
    snprintf(env[nbase + 3], VARLEN, "PARALLEL_PID=%ld", (long)getpid());
    /* a job here: GNU's ':' (remote ones get theirs from remote.c) */
    snprintf(env[nbase + 4], VARLEN, "PARALLEL_SSHLOGIN=:");
    snprintf(env[nbase + 5], VARLEN, "PARALLEL_SSHHOST=:");
    char *more = buf + NVARS * VARLEN;
    size_t k = nbase + NVARS;
    if (a)
        env[k++] = memcpy(more, a, la);
    if (b)
        env[k++] = memcpy(more + la, b, lb);
    env[k] = NULL;
    return env;
}
