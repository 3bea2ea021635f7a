#!/usr/bin/env python3
"""Run a command (stdin and stdout passed through) and print, on stderr,
its wall time and its own CPU time: all of its threads, none of the
processes it starts. The CPU is read from /proc while the command is a
zombie (waitid WNOWAIT), before reaping folds its children's time in.
Usage: self_cpu.py CMD [ARGS...]  ->  `wall_s X` and `self_cpu_s Y`."""
import os
import sys
import time

t0 = time.monotonic()
pid = os.fork()
if pid == 0:
    try:
        os.execvp(sys.argv[1], sys.argv[1:])
    finally:
        os._exit(127)
os.waitid(os.P_PID, pid, os.WEXITED | os.WNOWAIT)
wall = time.monotonic() - t0
with open(f"/proc/{pid}/stat") as f:
    fields = f.read().rsplit(")", 1)[1].split()
ticks = int(fields[11]) + int(fields[12])  # utime + stime
_, status = os.waitpid(pid, 0)
print(f"wall_s {wall:.6f}\nself_cpu_s {ticks / os.sysconf('SC_CLK_TCK'):.6f}",
      file=sys.stderr)
sys.exit(os.waitstatus_to_exitcode(status))
