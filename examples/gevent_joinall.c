/* The seed's first gevent program (gevent.joinall of foo, bar, func3): three
 * coroutines that sleep, so the one that sleeps least finishes first.
 * Prints, as gevent does:
 *   Running in foo / running in bar / running in func3 /
 *   func3 line / bar line / foo line */
#include <eventor.h>
#include <stdio.h>

static void *foo(void *arg)
{
    (void)arg;
    puts("Running in foo");
    evt_sleep(evt_now() + 2000);
    puts("foo: blocked the longest, runs last");
    return NULL;
}

static void *bar(void *arg)
{
    (void)arg;
    puts("running in bar");
    evt_sleep(evt_now() + 1000);
    puts("bar: foo is still blocked, this runs second");
    return NULL;
}

static void *func3(void *arg)
{
    (void)arg;
    puts("running in func3");
    evt_sleep(0); /* gevent.sleep(0): let the others run once */
    puts("func3: the other two are still blocked in IO");
    return NULL;
}

int main(void)
{
    evt_group_t *g = evt_group_new();
    if (!g) {
        perror("evt_group_new");
        return 1;
    }
    evt_group_spawn(g, foo, NULL);
    evt_group_spawn(g, bar, NULL);
    evt_group_spawn(g, func3, NULL);
    int rc = evt_group_join(g, -1); /* gevent.joinall */
    evt_group_free(g);
    return rc == 0 ? 0 : 1;
}
