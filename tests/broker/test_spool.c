/* Tests of a chunk's spool: records put in any order are read back by
 * line (and a line without one has none); what a writer SIGKILLed mid-way
 * wrote is all there for the next one, which mends an index word the dead
 * one did not write, skips a torn record and appends after the whole ones;
 * results far longer than usual grow it; a missing or short spool reads as
 * no records; close cuts the file to its records. */
#include <criterion/criterion.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "broker/spool.h"

#define LINES 64

static char path[64];

static void make_path(void)
{
    strcpy(path, "/tmp/eventor-spool-XXXXXX");
    int fd = mkstemp(path);
    cr_assert_geq(fd, 0);
    close(fd);
    unlink(path); /* (open makes it) */
}

static void put(evt__spool_t *s, uint64_t line)
{
    char res[32];
    int n = snprintf(res, sizeof res, "result-%llu", (unsigned long long)line);
    cr_assert_eq(evt__spool_put(s, line, line % 5 ? 0 : EIO,
                                (unsigned)line % 3, res, (size_t)n),
                 0, "%s", strerror(s->err));
}

/* Line's record in s is the one put wrote. */
static void is_put(const evt__spool_t *s, uint64_t line)
{
    evt__spool_rec_t rec;
    char want[32];
    int n = snprintf(want, sizeof want, "result-%llu",
                     (unsigned long long)line);
    cr_assert_eq(evt__spool_get(s, line, &rec), 1, "line %llu has none",
                 (unsigned long long)line);
    cr_assert_eq(rec.status, line % 5 ? 0 : EIO);
    cr_assert_eq(rec.attempt, line % 3);
    cr_assert_eq(rec.len, (size_t)n);
    cr_assert_eq(memcmp(rec.res, want, (size_t)n), 0);
}

Test(spool, records_put_in_any_order_are_read_back_by_line)
{
    make_path();
    evt__spool_t s;
    cr_assert_eq(evt__spool_open(&s, path, LINES, 16), 0);
    for (uint64_t i = LINES; i-- > 0;)
        if (i != 17)
            put(&s, i);
    size_t used = s.used;
    cr_assert_eq(evt__spool_close(&s), 0);
    struct stat st;
    cr_assert_eq(stat(path, &st), 0);
    cr_assert_eq((size_t)st.st_size, used, "cut to its records");
    cr_assert_eq(evt__spool_read(&s, path, LINES), 0);
    for (uint64_t i = 0; i < LINES; i++)
        if (i != 17)
            is_put(&s, i);
    evt__spool_rec_t rec;
    cr_assert_eq(evt__spool_get(&s, 17, &rec), 0);
    cr_assert_eq(evt__spool_get(&s, LINES, &rec), 0, "past the chunk");
    evt__spool_unmap(&s);
    unlink(path);
}

/* A writer that puts the odd lines, leaves its last index word unwritten
 * (as if killed between the record and it) and a torn record after them
 * (killed before its magic), then is SIGKILLed. */
static void die_mid_way(void)
{
    evt__spool_t s;
    if (evt__spool_open(&s, path, LINES, 16) < 0)
        _exit(2);
    for (uint64_t i = 1; i < LINES; i += 2)
        put(&s, i);
    s.index[LINES - 1] = 0;
    memset(s.map + s.used, 0, 24);
    memcpy(s.map + s.used + 24, "torn", 4);
    s.started[0] = 1;
    raise(SIGKILL);
}

Test(spool, what_a_killed_writer_wrote_is_there_for_the_next)
{
    make_path();
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0)
        die_mid_way();
    int st;
    cr_assert_eq(waitpid(pid, &st, 0), pid);
    cr_assert(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
    evt__spool_t s;
    cr_assert_eq(evt__spool_open(&s, path, LINES, 16), 0);
    cr_assert_eq(s.started[0], 1, "the marks stay");
    for (uint64_t i = 0; i < LINES; i++)
        cr_assert_eq(evt__spool_has(&s, i), (int)(i % 2), "line %llu",
                     (unsigned long long)i);
    for (uint64_t i = 0; i < LINES; i += 2)
        put(&s, i);
    cr_assert_eq(evt__spool_close(&s), 0);
    cr_assert_eq(evt__spool_read(&s, path, LINES), 0);
    for (uint64_t i = 0; i < LINES; i++)
        is_put(&s, i);
    evt__spool_unmap(&s);
    unlink(path);
}

Test(spool, results_far_longer_than_usual_grow_it)
{
    make_path();
    enum { BIG = 1 << 20 };
    char *big = malloc(BIG);
    cr_assert_not_null(big);
    for (int i = 0; i < BIG; i++)
        big[i] = (char)('a' + i % 26);
    evt__spool_t s;
    cr_assert_eq(evt__spool_open(&s, path, 4, 8), 0);
    for (uint64_t i = 0; i < 4; i++)
        cr_assert_eq(evt__spool_put(&s, i, 0, 0, big, BIG - i), 0);
    cr_assert_eq(evt__spool_close(&s), 0);
    cr_assert_eq(evt__spool_read(&s, path, 4), 0);
    for (uint64_t i = 0; i < 4; i++) {
        evt__spool_rec_t rec;
        cr_assert_eq(evt__spool_get(&s, i, &rec), 1);
        cr_assert_eq(rec.len, BIG - i);
        cr_assert_eq(memcmp(rec.res, big, rec.len), 0);
    }
    evt__spool_unmap(&s);
    unlink(path);
    free(big);
}

Test(spool, a_missing_or_short_spool_has_no_records)
{
    make_path();
    evt__spool_t s;
    evt__spool_rec_t rec;
    cr_assert_eq(evt__spool_read(&s, path, LINES), -1);
    cr_assert_eq(evt__spool_get(&s, 0, &rec), 0);
    evt__spool_unmap(&s);
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f);
    fputs("short", f);
    fclose(f);
    cr_assert_eq(evt__spool_read(&s, path, LINES), -1);
    cr_assert_eq(evt__spool_get(&s, 0, &rec), 0);
    evt__spool_unmap(&s);
    unlink(path);
}
