/* The libc originals behind the hooks, looked up once with
 * dlsym(RTLD_NEXT). While that is under way a hooked call takes the raw
 * system call instead (dlsym may allocate, and allocators read files). */
#define _GNU_SOURCE
#include "hook.h"

#include <dlfcn.h>

struct evt__hook_real evt__real;

/* 0 not started, 1 under way, 2 done. */
static atomic_int state;

#define FIND(fn) r.fn = (__typeof__(r.fn))dlsym(RTLD_NEXT, #fn)

static void resolve_all(void)
{
    struct evt__hook_real r;
    FIND(read);
    FIND(write);
    FIND(readv);
    FIND(writev);
    FIND(recv);
    FIND(recvfrom);
    FIND(recvmsg);
    FIND(send);
    FIND(sendto);
    FIND(sendmsg);
    FIND(connect);
    FIND(accept4);
    FIND(poll);
    FIND(ppoll);
    FIND(select);
    FIND(pselect);
    FIND(nanosleep);
    FIND(clock_nanosleep);
    FIND(socket);
    FIND(socketpair);
    FIND(pipe2);
    FIND(fcntl);
    FIND(ioctl);
    FIND(setsockopt);
    FIND(close);
    FIND(dup);
    FIND(dup3);
    FIND(dup2);
    /* Published one pointer at a time; a racing reader sees each either
     * NULL (and takes the raw call) or right. */
    void **dst = (void **)&evt__real, **src = (void **)&r;
    for (size_t i = 0; i < sizeof r / sizeof(void *); i++)
        __atomic_store_n(&dst[i], src[i], __ATOMIC_RELEASE);
}

int evt__hook_resolve(void)
{
    int s = atomic_load(&state);
    if (evt__hlikely(s == 2))
        return 1;
    int zero = 0;
    if (s == 0 && atomic_compare_exchange_strong(&state, &zero, 1)) {
        resolve_all();
        atomic_store(&state, 2);
        return 1;
    }
    return 0;
}

int evt__hook_disabled;

/* A program linked with the static libeventor has a runtime of its own:
 * some evt_* names the hooks call then bind to it, others to the shared
 * library the hooks need, and the two runtimes must not be mixed. Such a
 * program gets libc's calls, and is told once. */
static void check_one_runtime(void)
{
    void *so = dlopen("libeventor.so." EVT__SOVERSION, RTLD_NOW | RTLD_NOLOAD);
    void *ours = so ? dlsym(so, "evt_sched_active") : NULL;
    void *seen = dlsym(RTLD_DEFAULT, "evt_sched_active");
    if (ours && seen && ours != seen) {
        evt__hook_disabled = 1;
        static const char msg[] =
            "eventor-hook: this program has its own (static) copy of "
            "eventor; hooks are off. Link libeventor.so instead.\n";
        ssize_t w = EVT__REAL(write, syscall(SYS_write, 2, msg, sizeof msg - 1),
                              2, msg, sizeof msg - 1);
        (void)w;
    }
    if (so)
        dlclose(so);
}

/* Before main, while the program is still one thread. */
__attribute__((constructor)) static void hook_init(void)
{
    evt__hook_resolve();
    check_one_runtime();
}
