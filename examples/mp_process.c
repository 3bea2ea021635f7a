/* The seed's Process program: a child runs func('derek'), which sleeps and
 * prints a greeting, while the parent prints "end...." at once, then waits
 * for the child (Python would wait at exit) and reports its exit code. */
#include <eventor.h>
#include <stdio.h>

static ssize_t func(const void *name, size_t len, void *out, size_t cap)
{
    (void)out, (void)cap;
    evt_sleep(evt_now() + 300);
    printf("hello %.*s\n", (int)len, (const char *)name);
    return 0;
}

int main(void)
{
    evt_process_t *p = evt_process_start(func, "derek", 5);
    if (!p) {
        perror("mp_process");
        return 1;
    }
    printf("end....\n");
    fflush(stdout); /* before the child's line, as a terminal would show */
    evt_process_join(p, -1);
    printf("exitcode %d\n", evt_process_exitcode(p));
    evt_process_free(p);
    return 0;
}
