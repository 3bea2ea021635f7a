/* The environment of a job: eventor's own, plus GNU parallel's variables
 * for it (PARALLEL_SEQ, PARALLEL_JOBSLOT, PARALLEL_JOBSLOT0, PARALLEL_PID,
 * PARALLEL_SSHLOGIN and PARALLEL_SSHHOST: ':'), and the caller's own
 * (PARALLEL_TMP, the host groups' with --hostgroups).
 * Built per job on the main thread, handed to execve by the spawner. */
#include "cli.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static char **base;  /* environ without the variables set here */
static size_t nbase;

static int ours(const char *e)
{
    static const char *const names[] = {"PARALLEL_SEQ=", "PARALLEL_JOBSLOT=",
                                        "PARALLEL_JOBSLOT0=", "PARALLEL_PID=",
                                        "PARALLEL_SSHLOGIN=",
                                        "PARALLEL_SSHHOST=", "PARALLEL_TMP=",
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

char *jobenv_tmpname(const char *dir)
{
    static const char alnum[] = "0123456789abcdefghijklmnopqrstuvwxyz"
                                "ABCDEFGHIJKLMNOPQRSTUVWXYZ";
    static unsigned long long state;
    if (!state)
        state = (unsigned long long)getpid() * 6364136223846793005ULL ^
                (unsigned long long)time(NULL);
    char r[6];
    for (int i = 0; i < 5; i++) {
        state = state * 6364136223846793005ULL + 1442695040888963407ULL;
        r[i] = alnum[(state >> 33) % 62];
    }
    r[5] = 0;
    char *name = NULL; /* GNU's tmpname("par") */
    return asprintf(&name, "%s/par%s", dir, r) < 0 ? NULL : name;
}

char **jobenv_build(uint64_t seq, int slot, char *const *more, size_t nmore)
{
    enum { NVARS = 6, VARLEN = 48 };
    size_t room = 0, m = 0;
    for (size_t i = 0; i < nmore; i++)
        room += more[i] ? strlen(more[i]) + 1 : 0;
    char **env = malloc((nbase + NVARS + nmore + 1) * sizeof *env +
                        NVARS * VARLEN + room);
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
    char *at = buf + NVARS * VARLEN;
    for (size_t i = 0; i < nmore; i++)
        if (more[i]) {
            env[nbase + NVARS + m++] = strcpy(at, more[i]);
            at += strlen(more[i]) + 1;
        }
    env[nbase + NVARS + m] = NULL;
    return env;
}
