/* The seed's third Eventor scenario: 4 consumer processes share one list,
 * and every item is consumed exactly once:
 *   start_multi_consumer(consumercount=4, iterable=datalist,
 *                        consumer_func=confunc)
 * Each consumer says which process dealt with the item; the parent prints
 * the answers in input order (the workers' pids differ from run to run, so
 * they are counted rather than printed). A consumer that dies would have
 * its item handed to another one (retries = 1). */
#include <eventor.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static int confunc(const evt_batch_task_t *t, void *out, size_t cap,
                   size_t *len, void *user)
{
    (void)user;
    *len = (size_t)snprintf(out, cap, "%ld %s", (long)getpid(),
                            (const char *)t->item);
    return 0;
}

typedef struct consumers {
    long pids[16];
    int n;
} consumers_t;

static void print_item(const evt_batch_task_t *t, int status,
                       const void *res, size_t len, void *user)
{
    consumers_t *c = user;
    if (status != 0) {
        printf("item %llu failed: error %d\n", (unsigned long long)t->index,
               status);
        return;
    }
    char buf[128], *item;
    snprintf(buf, sizeof buf, "%.*s", (int)len, (const char *)res);
    long pid = strtol(buf, &item, 10);
    int known = 0;
    for (int i = 0; i < c->n; i++)
        known |= c->pids[i] == pid;
    if (!known && c->n < 16)
        c->pids[c->n++] = pid;
    printf("a consumer process dealt with%s\n", item);
}

int main(void)
{
    const char *datalist[] = {"1", "2", "5", "3", "6", "8", "23", "data", "232"};
    consumers_t c = {.n = 0};
    evt_batch_opts_t o = {.processes = 4, .coroutines = 4, .retries = 1,
                          .ordered = 1, .on_result = print_item, .user = &c};
    evt_batch_report_t r;
    if (evt_batch_run_array(&o, confunc, (const void *const *)datalist, NULL, 9,
                            &r) < 0) {
        perror("eventor_multi_consumer");
        return 1;
    }
    printf("%llu items, each consumed once, by %s4 processes\n",
           (unsigned long long)r.ok, c.n <= 4 ? "at most " : "MORE THAN ");
    return r.ok == 9 ? 0 : 1;
}
