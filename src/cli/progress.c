/* --bar, --eta and --progress: progress on stderr, redrawn at most ten
 * times a second
 * and once at the end. Both need the number of jobs, so the input is read
 * whole first when either is asked for (as GNU parallel does). On a
 * terminal the line is erased before a job's output and drawn again after
 * it, so output never lands behind the bar. */
#include "cli.h"

#include <eventor.h>
#include <string.h>
#include <unistd.h>

static int bar, eta, hosts; /* hosts: --eta or --progress's host line */
static long total;
static int64_t t0, last;
static int tty, drawn;          /* stderr is a terminal; the line is up */
static uint64_t l_done, l_failed; /* the last state drawn */
static int l_running;
static uint64_t c_done, c_failed; /* the last state told */

void progress_start(const struct opts *o, long n)
{
    bar = o->bar;
    eta = o->eta && !bar;
    hosts = (o->eta || o->progress) && !bar; /* GNU: --bar draws alone */
    total = n;
    t0 = last = evt_now();
    tty = (bar || hosts) && isatty(2);
    if (hosts)
        fprintf(stderr, "\nComputers / CPU cores / Max jobs to run\n"
                        "1:local / %ld / %ld\n\nComputer:jobs running/jobs "
                        "completed/%%of started jobs/Average seconds to "
                        "complete\n", sysconf(_SC_NPROCESSORS_ONLN), o->jobs);
}

static void draw(uint64_t done, uint64_t failed, int running)
{
    l_done = done;
    l_failed = failed;
    l_running = running;
    drawn = 1;
    double secs = (evt_now() - t0) / 1000.0;
    long left = total - (long)done;
    double avg = done ? secs / (double)done : 0;
    double rest = done ? avg * (double)left : 0;
    int pct = total ? (int)(100 * (long)done / total) : 100;
    if (eta)
        fprintf(stderr, "\rETA: %.0fs Left: %ld AVG: %.2fs  ", rest, left, avg);
    else if (hosts)
        fputc('\r', stderr);
    if (hosts) /* GNU's share: of the jobs started, those running or done */
        fprintf(stderr, "local:%d/%llu/%d%%/%.1fs ", running,
                (unsigned long long)done, done + (uint64_t)running ? 100 : 0,
                avg);
    if (bar) {
        char line[41];
        int fill = pct * 40 / 100;
        memset(line, '#', (size_t)fill);
        memset(line + fill, ' ', (size_t)(40 - fill));
        line[40] = 0;
        fprintf(stderr, "\r%d%% %llu:%ld=%.0fs failed:%llu |%s|", pct,
                (unsigned long long)done, left, rest,
                (unsigned long long)failed, line);
    }
    fflush(stderr);
}

void progress_update(uint64_t done, uint64_t failed, int running)
{
    if (!bar && !hosts)
        return;
    c_done = done;
    c_failed = failed;
    int64_t now = evt_now();
    if (now - last < 100 && done != (uint64_t)total)
        return;
    last = now;
    draw(done, failed, running);
}

void progress_hide(void)
{
    if (tty && drawn) {
        fputs("\r\033[K", stderr);
        fflush(stderr);
    }
}

void progress_show(void)
{
    if (tty && drawn)
        draw(l_done, l_failed, l_running);
}

void progress_end(void)
{
    if (bar || hosts) { /* the last state, nothing running */
        draw(c_done, c_failed, 0);
        fputc('\n', stderr);
    }
}
