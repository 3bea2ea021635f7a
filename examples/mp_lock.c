/* The seed's multiprocessing.Lock program: 100 processes each print
 * 'hello', i, sharing one lock. The seed hands the lock over but prints in
 * whatever order the processes run; here each process takes the lock and
 * waits on a condition until it is its turn, so the lines come in order.
 * Prints:  hello 0 / hello 1 / ... / hello 99 */
#include <eventor.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

#define N 100

static int f(evt_ipc_lock_t *lock, evt_ipc_cond_t *turn_changed,
             evt_ipc_value_t *turn, int i)
{
    int64_t deadline = evt_now() + 10000;
    if (evt_ipc_lock_acquire(lock, deadline) < 0)
        return 1;
    while (evt_ipc_value_get(turn) != i)
        if (evt_ipc_cond_wait(turn_changed, deadline) < 0) {
            evt_ipc_lock_release(lock);
            return 1;
        }
    printf("hello %d\n", i);
    fflush(stdout);
    evt_ipc_value_add(turn, 1);
    evt_ipc_cond_notify_all(turn_changed);
    return evt_ipc_lock_release(lock) < 0;
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
    pid_t p[N];
    fflush(stdout);
    for (int num = 0; num < N; num++) {
        p[num] = fork(); /* Process(target=f, args=(lock, num)).start() */
        if (p[num] == 0)
            _exit(f(lock, turn_changed, turn, num));
    }
    int ok = 1;
    for (int num = 0; num < N; num++) {
        int status;
        waitpid(p[num], &status, 0);
        ok &= WIFEXITED(status) && WEXITSTATUS(status) == 0;
    }
    evt_ipc_cond_free(turn_changed);
    evt_ipc_lock_free(lock);
    evt_ipc_value_free(turn);
    return ok ? 0 : 1;
}
