/* The timing wheel against a plain array kept by hand: random arms (past,
 * near, far and very far deadlines, many equal), removals (wake-ups before
 * the deadline) and expiries with the clock moving by small steps and big
 * jumps. Expiry must hand out exactly the coroutines whose deadline has
 * passed, and the next turn must never come after the earliest deadline
 * (or now, for one passed already). */
#include <criterion/criterion.h>
#include <stdint.h>
#include <stdlib.h>

#include "core/core.h"
#include "core/timer.h"

#define N 2000

static evt_co_t cos[N];
static int armed[N];

static int64_t earliest(void)
{
    int64_t min = -1;
    for (size_t i = 0; i < N; i++)
        if (armed[i] && (min < 0 || cos[i].deadline < min))
            min = cos[i].deadline;
    return min;
}

static int64_t pick_deadline(int64_t now)
{
    switch (rand() % 6) {
    case 0:
        return now > 5 ? now - rand() % 5 : now; /* passed already */
    case 1:
    case 2:
        return now + rand() % 50; /* many equal */
    case 3:
        return now + rand() % 100000;
    case 4:
        return now + ((int64_t)rand() << 12);
    default:
        return INT64_MAX / 2 + rand(); /* beyond any jump of the clock */
    }
}

Test(timer, random_arms_removals_and_expiries)
{
    static evt__timers_t t; /* zero: empty, at time 0 */
    srand(7);
    for (size_t i = 0; i < N; i++)
        cos[i].timer_slot = SIZE_MAX;
    int64_t now = 1000;
    size_t live = 0, expired = 0;
    for (int step = 0; step < 200000; step++) {
        size_t i = (size_t)rand() % N;
        int op = rand() % 3;
        if (op == 0 && !armed[i]) {
            cos[i].deadline = pick_deadline(now);
            evt__timers_add(&t, &cos[i]);
            armed[i] = 1;
            live++;
        } else if (op == 1 && armed[i]) {
            evt__timers_remove(&t, &cos[i]);
            armed[i] = 0;
            live--;
        } else if (op == 2) {
            now += rand() % 7 == 0 ? rand() % 300000 : rand() % 5;
            if (rand() % 5000 == 0)
                now += (int64_t)1 << 40;
            evt_co_t *co;
            while ((co = evt__timers_expired(&t, now)) != NULL) {
                cr_assert_leq(co->deadline, now, "expired early");
                cr_assert(armed[co - cos], "expired while not armed");
                cr_assert_eq(co->timer_slot, SIZE_MAX);
                armed[co - cos] = 0;
                live--;
                expired++;
            }
            int64_t next = earliest();
            cr_assert(next < 0 || next > now, "a passed deadline was left");
        }
        cr_assert_eq(t.len, live);
        int64_t first = earliest(), turn = evt__timers_next(&t);
        cr_assert_eq(turn < 0, first < 0);
        /* (A deadline passed already is due at the next turn: now.) */
        cr_assert_leq(turn, first > now ? first : now,
                      "the wheel would turn after a deadline");
        if (step % 101 == 0)
            for (size_t k = 0; k < N; k++)
                cr_assert_eq(cos[k].timer_slot == SIZE_MAX, !armed[k]);
    }
    cr_assert_gt(expired, 10000); /* the run did expire, not only remove */
}
