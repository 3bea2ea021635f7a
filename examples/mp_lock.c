/* The seed's multiprocessing.Lock program: 100 processes each print
 * 'hello', i, sharing one lock. The seed hands the lock over but prints in
 * whatever order the processes run; here each process takes the lock and
 * waits on a condition until it is its turn, so the lines come in order.
 * Prints:  hello 0 / hello 1 / ... / hello 99 */
#include <eventor.h>
#include <stdio.h>
#include <string.h>

#define N 100

/* The arguments of f, as bytes: IPC objects are at the same address in
 * every child. */
typedef struct args {
    evt_ipc_lock_t *lock;
    evt_ipc_cond_t *turn_changed;
    evt_ipc_value_t *turn;
    int i;
} args_t;

static ssize_t f(const void *arg, size_t len, void *out, size_t cap)
{
    (void)len, (void)out, (void)cap;
    args_t a;
    memcpy(&a, arg, sizeof a);
    int64_t deadline = evt_now() + 10000;
    if (evt_ipc_lock_acquire(a.lock, deadline) < 0)
        return -1;
    while (evt_ipc_value_get(a.turn) != a.i)
        if (evt_ipc_cond_wait(a.turn_changed, deadline) < 0) {
            evt_ipc_lock_release(a.lock);
            return -1;
        }
    printf("hello %d\n", a.i);
    fflush(stdout);
    evt_ipc_value_add(a.turn, 1);
    evt_ipc_cond_notify_all(a.turn_changed);
    return evt_ipc_lock_release(a.lock);
}

int main(void)
{
    evt_ipc_lock_t *lock = evt_ipc_lock_new(); /* Lock() */
    evt_ipc_cond_t *turn_changed = evt_ipc_cond_new(lock);
    evt_ipc_value_t *turn = evt_ipc_value_new(0);
    if (!lock || !turn_changed || !turn) {
        perror("eventor");
        return 1;
    }
    evt_process_t *p[N];
    for (int num = 0; num < N; num++) {
        /* Process(target=f, args=(lock, num)).start() */
        args_t a = {lock, turn_changed, turn, num};
        if (!(p[num] = evt_process_start(f, &a, sizeof a))) {
            perror("evt_process_start");
            return 1;
        }
    }
    int ok = 1;
    for (int num = 0; num < N; num++) {
        evt_process_join(p[num], -1);
        ok &= evt_process_exitcode(p[num]) == 0;
        evt_process_free(p[num]);
    }
    evt_ipc_cond_free(turn_changed);
    evt_ipc_lock_free(lock);
    evt_ipc_value_free(turn);
    return ok ? 0 : 1;
}
