/* The seed's Manager program: a shared dict and a shared list (made from
 * range(5)); two child processes each store d[id] = id, append id to the
 * list and print the list; then the parent prints both. The seed uses
 * os.getpid() as id; here the worker number (1, 2), and the second worker
 * starts its work when the first is done (an IPC event), so the output is
 * the same on every run. Values are stored as 4-byte integers.
 * Prints:
 *   [0, 1, 2, 3, 4, 1]
 *   [0, 1, 2, 3, 4, 1, 2]
 *   {1: 1, 2: 2}
 *   [0, 1, 2, 3, 4, 1, 2]            */
#include <eventor.h>
#include <stdio.h>
#include <string.h>

static int print_item(size_t i, const void *val, size_t len, void *user)
{
    int v;
    (void)user;
    if (len != sizeof v)
        return 1;
    memcpy(&v, val, sizeof v);
    printf("%s%d", i ? ", " : "[", v);
    return 0;
}

static void print_list(evt_ipc_list_t *l)
{
    if (evt_ipc_list_len(l) == 0)
        printf("[");
    evt_ipc_list_foreach(l, print_item, NULL);
    printf("]\n");
}

static int print_entry(const char *key, const void *val, size_t len,
                       void *first)
{
    int v;
    if (len != sizeof v)
        return 1;
    memcpy(&v, val, sizeof v);
    printf("%s%s: %d", *(int *)first ? "{" : ", ", key, v);
    *(int *)first = 0;
    return 0;
}

/* The arguments of f, as bytes: IPC objects are at the same address in
 * every child. */
typedef struct args {
    evt_ipc_dict_t *d;
    evt_ipc_list_t *l;
    evt_ipc_event_t *first_done;
    int id;
} args_t;

static ssize_t f(const void *arg, size_t len, void *out, size_t cap)
{
    (void)len, (void)out, (void)cap;
    args_t a;
    memcpy(&a, arg, sizeof a);
    if (a.id == 2 && evt_ipc_event_wait(a.first_done, evt_now() + 5000) < 0)
        return -1;
    char key[16];
    snprintf(key, sizeof key, "%d", a.id);
    int rc = evt_ipc_dict_set(a.d, key, &a.id, sizeof a.id) < 0 ||
             evt_ipc_list_append(a.l, &a.id, sizeof a.id) < 0;
    if (!rc)
        print_list(a.l);
    fflush(stdout);
    evt_ipc_event_set(a.first_done);
    return rc ? -1 : 0;
}

int main(void)
{
    evt_ipc_dict_t *d = evt_ipc_dict_new();   /* manager.dict() */
    evt_ipc_list_t *l = evt_ipc_list_new();   /* manager.list(range(5)) */
    evt_ipc_event_t *first_done = evt_ipc_event_new();
    if (!d || !l || !first_done) {
        perror("eventor");
        return 1;
    }
    for (int i = 0; i < 5; i++)
        evt_ipc_list_append(l, &i, sizeof i);
    evt_process_t *p[2];
    for (int i = 0; i < 2; i++) {
        args_t a = {d, l, first_done, i + 1};
        if (!(p[i] = evt_process_start(f, &a, sizeof a))) {
            perror("evt_process_start");
            return 1;
        }
    }
    int ok = 1;
    for (int i = 0; i < 2; i++) {
        evt_process_join(p[i], -1);
        ok &= evt_process_exitcode(p[i]) == 0;
        evt_process_free(p[i]);
    }
    int first = 1;
    evt_ipc_dict_foreach(d, print_entry, &first);
    printf(first ? "{}\n" : "}\n");
    print_list(l);
    evt_ipc_dict_free(d);
    evt_ipc_list_free(l);
    evt_ipc_event_free(first_done);
    return ok ? 0 : 1;
}
