/* A program with the static libeventor linked beside libeventor-hook: the
 * hooks must notice the second runtime, say so, and stay off (a hooked
 * sleep in a coroutine then blocks as libc's: the other one cannot run). */
#define _DEFAULT_SOURCE
#include "eventor.h"

#include <stdio.h>
#include <unistd.h>

static int ran;

static void *other(void *arg)
{
    (void)arg;
    ran = 1;
    return NULL;
}

static void *sleeper(void *arg)
{
    (void)arg;
    usleep(20 * 1000);
    return (void *)(long)ran; /* 0: nobody ran while it slept */
}

int main(void)
{
    evt_co_t *s = evt_spawn(sleeper, NULL), *o = evt_spawn(other, NULL);
    void *r = NULL;
    evt_join(s, -1, &r);
    evt_join(o, -1, NULL);
    printf("%s\n", r ? "hooked" : "libc");
    return 0;
}
