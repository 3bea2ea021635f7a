/* The seed's second Eventor scenario: the same work over the lines of a
 * file, read as they are needed:
 *   e = Eventor(threadcount=3, taskunitcount=3, func=lambda x: int(x) + 10,
 *               interval=1)
 *   e.run_with_file("test/data.txt")  ->  [11, 12, ..., 20]
 * Usage: eventor_file [FILE]   (default examples/data.txt) */
#include <errno.h>
#include <eventor.h>
#include <stdio.h>
#include <stdlib.h>

static int func(const evt_batch_task_t *t, void *out, size_t cap,
                size_t *len, void *user)
{
    (void)user;
    char *end;
    long x = strtol(t->item, &end, 10);
    if (end == (const char *)t->item || *end != '\0')
        return errno = EINVAL, -1; /* not a number: this line fails, the
                                      others go on */
    *len = (size_t)snprintf(out, cap, "%ld", x + 10);
    return 0;
}

static void print_item(const evt_batch_task_t *t, int status,
                       const void *res, size_t len, void *user)
{
    (void)user;
    printf("%s", t->index == 0 ? "[" : ", ");
    if (status == 0)
        printf("%.*s", (int)len, (const char *)res);
    else
        printf("<line %llu: error %d>", (unsigned long long)t->index + 1,
               status);
}

int main(int argc, char **argv)
{
    const char *file = argc > 1 ? argv[1] : "examples/data.txt";
    evt_batch_opts_t o = {.coroutines = 3, .unit = 3, .interval_ms = 1000,
                          .ordered = 1, .on_result = print_item};
    evt_batch_report_t r;
    if (evt_batch_run_file(&o, func, file, &r) < 0) {
        perror(file);
        return 1;
    }
    printf("%s\n", r.read ? "]" : "[]");
    return r.failed ? 1 : 0;
}
