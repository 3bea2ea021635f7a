/* The runner behind tests/harness/criterion/criterion.h: runs every
 * registered test in this process, in the order the file declares them. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "criterion/criterion.h"

static struct evt_test_case *cases, **cases_tail = &cases;
static struct evt_test_suite *suites;
static const struct evt_test_case *current;

/* Constructors run in declaration order within a file; keep that order. */
void evt_test_register(struct evt_test_case *tc)
{
    *cases_tail = tc;
    cases_tail = &tc->next;
}

void evt_test_register_suite(struct evt_test_suite *ts)
{
    ts->next = suites;
    suites = ts;
}

/* "what: ", then the optional printf message, then a newline. */
static void say(const char *what, const char *fmt, va_list ap)
{
        fputs(what, stderr);
        if (*fmt) {
                fputs(": ", stderr);
                vfprintf(stderr, fmt, ap);
        }
        fputc('\n', stderr);
}

_Noreturn void evt_test_fail(const char *file, int line, const char *expr,
                             const char *fmt, ...)
{
        fprintf(stderr, "%s:%d: %s::%s: assertion failed: ", file, line,
                        current ? current->suite : "?", current ? current->name : "?");
        va_list ap;
        va_start(ap, fmt);
        say(expr, fmt, ap);
        va_end(ap);
        exit(1);
}

void evt_test_skip(const char *fmt, ...)
{
        fprintf(stderr, "%s::%s: ", current->suite, current->name);
        va_list ap;
        va_start(ap, fmt);
        say("skipped", fmt, ap);
        va_end(ap);
}

static const struct evt_test_suite *suite_of(const char *name)
{
    for (const struct evt_test_suite *s = suites; s; s = s->next)
        if (strcmp(s->name, name) == 0)
            return s;
    return NULL;
}

/* Criterion's flags are accepted and ignored (--jobs 1), except
 * --filter=suite/name, which runs that one test. */
int main(int argc, char **argv)
{
    const char *only = NULL;
    for (int i = 1; i < argc; i++)
        if (strncmp(argv[i], "--filter=", 9) == 0)
            only = argv[i] + 9;
    int ran = 0;
    for (current = cases; current; current = current->next) {
        char full[256];
        snprintf(full, sizeof full, "%s/%s", current->suite, current->name);
        if (only && strcmp(only, full) != 0)
            continue;
        const struct evt_test_suite *s = suite_of(current->suite);
        if (s && s->init)
            s->init();
        current->fn();
        if (s && s->fini)
            s->fini();
        ran++;
    }
    fprintf(stderr, "Synthesis: Tested: %d | Passing: %d | Failing: 0\n", ran, ran);
    return 0;
}
