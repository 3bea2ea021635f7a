/* The one handler of the signals a crashing program dies of, and the
 * notes layers leave in it (crash.c). */
#ifndef EVT_CORE_CRASH_H
#define EVT_CORE_CRASH_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

/* Run by the crash handler, async-signal-safe, on the crashing thread's
 * alternate stack. Returns 1 when it has explained the crash in full (the
 * handler that was there before is then not run), else 0. */
typedef int (*evt__crash_note_fn)(int sig, const siginfo_t *si);

/* Have note run when this process crashes of SIGSEGV, SIGBUS, SIGABRT,
 * SIGFPE or SIGILL (installing the handler on the first call). A note
 * registered again is kept once. 0, or -1 and ENOSPC past
 * EVT__CRASH_NOTES notes. */
#define EVT__CRASH_NOTES 4
int evt__crash_note(evt__crash_note_fn note);

/* What the running coroutine works on, named if it crashes: the batch
 * engine's item, from 1; 0 for nothing. evt__crash_item is for notes. */
void evt__crash_set_item(uint64_t item);
uint64_t evt__crash_item(void);

/* For notes: v in decimal into out (24 bytes are enough); its length. */
size_t evt__crash_fmt_u64(char *out, uint64_t v);
/* For notes: write the n bytes of s to stderr, whatever it takes. */
void evt__crash_write(const char *s, size_t n);

#endif
