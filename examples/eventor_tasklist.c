/* The seed's first Eventor scenario: 3 at once over [1..10], cut into units
 * of 3 tasks with a 1 s pause after each unit, func = x + 10; the results
 * come back in input order:
 *   e = Eventor(threadcount=3, taskunitcount=3, func=func, interval=1)
 *   e.run_with_tasklist([1, 2, ..., 10])  ->  [11, 12, ..., 20] */
#include <eventor.h>
#include <stdio.h>
#include <stdlib.h>

static int func(const evt_batch_task_t *t, void *out, size_t cap,
                size_t *len, void *user)
{
    (void)user;
    *len = (size_t)snprintf(out, cap, "%ld", atol(t->item) + 10);
    return 0;
}

/* Print the results as the seed's list, one item after the other. */
static void print_item(const evt_batch_task_t *t, int status,
                       const void *res, size_t len, void *user)
{
    (void)user;
    printf("%s", t->index == 0 ? "[" : ", ");
    if (status == 0)
        printf("%.*s", (int)len, (const char *)res);
    else
        printf("<error %d>", status);
}

int main(void)
{
    const char *elelist[] = {"1", "2", "3", "4", "5", "6", "7", "8", "9", "10"};
    evt_batch_opts_t o = {
        .coroutines = 3,      /* threadcount */
        .unit = 3,            /* taskunitcount */
        .interval_ms = 1000,  /* interval, in milliseconds */
        .ordered = 1,
        .on_result = print_item,
    };
    if (evt_batch_run_array(&o, func, (const void *const *)elelist, NULL, 10,
                            NULL) < 0) {
        perror("eventor_tasklist");
        return 1;
    }
    printf("]\n");
    return 0;
}
