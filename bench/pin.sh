# Sourced by the HTTP benchmarks: where their server and its clients run.
# The server gets the last CPU and every client the others (taskset), as a
# server on its own machine would be. Unpinned, the kernel's wake-affine
# placement puts a busy client and the server on one CPU at times, the
# other idle, and a latency-bound run loses 10-20% to that whatever the
# client (io_batch, same binaries: 1.22-1.28 s unpinned, 1.06-1.07 s
# pinned). PIN=0 runs both unpinned.
ncpu=$(nproc 2>/dev/null || echo 1)
on_server= on_clients=
if [ "${PIN:-1}" != 0 ] && [ "$ncpu" -ge 2 ] && command -v taskset >/dev/null; then
  on_server="taskset -c $((ncpu - 1))"
  on_clients="taskset -c 0-$((ncpu - 2))"
fi
