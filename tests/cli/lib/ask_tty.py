#!/usr/bin/python3
"""Run a command on a terminal of its own (a pty) and answer its questions:
each time its output ends with GNU parallel's " ?..." prompt, the next line
of ANSWERS is typed. Prints what the terminal showed (CRs dropped), then
"rc=N". Usage: ask_tty.py ANSWERS_FILE COMMAND [ARG...]"""
import os
import pty
import sys


def main():
    with open(sys.argv[1]) as f:
        answers = f.read().splitlines(True)
    pid, fd = pty.fork()
    if pid == 0:
        os.execvp(sys.argv[2], sys.argv[2:])
    shown = b""
    while True:
        try:
            chunk = os.read(fd, 4096)
        except OSError:  # EIO: the command and its children are gone
            break
        if not chunk:
            break
        shown += chunk
        if shown.endswith(b" ?...") and answers:
            os.write(fd, answers.pop(0).encode())
    _, status = os.waitpid(pid, 0)
    sys.stdout.write(shown.decode(errors="replace").replace("\r", ""))
    sys.stdout.write("rc=%d\n" % os.waitstatus_to_exitcode(status))


main()
