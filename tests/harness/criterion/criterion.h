/* A stand-in for the part of Criterion our tests use, for builds where
 * Criterion's runner cannot start (ThreadSanitizer: its inheritable arena
 * cannot be mapped beside TSan's shadow). Same test files, no fork, no
 * arena: every Test runs in this process, in file order, and the first
 * failed assertion ends the run with exit status 1. */
#ifndef EVT_TEST_HARNESS_CRITERION_H
#define EVT_TEST_HARNESS_CRITERION_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct evt_test_case {
  const char *suite, *name;
  void (*fn)(void);
  struct evt_test_case *next;
};

struct evt_test_suite {
  const char *name;
  void (*init)(void), (*fini)(void);
  struct evt_test_suite *next;
};

void evt_test_register(struct evt_test_case *tc);
void evt_test_register_suite(struct evt_test_suite *ts);
_Noreturn void evt_test_fail(const char *file, int line, const char *expr,
                             const char *fmt, ...);
void evt_test_skip(const char *fmt, ...);

#define EVT_TEST_CAT2(a, b) a##b
#define EVT_TEST_CAT(a, b) EVT_TEST_CAT2(a, b)

#define Test(s, n, ...)                                                        \
  static void s##_##n##_fn(void);                                              \
  static struct evt_test_case s##_##n##_case = {#s, #n, s##_##n##_fn, NULL};  \
  __attribute__((constructor)) static void s##_##n##_reg(void) {               \
    evt_test_register(&s##_##n##_case);                                        \
  }                                                                            \
  static void s##_##n##_fn(void)

#define TestSuite(s, ...)                                                      \
  static struct evt_test_suite s##_suite = {#s, __VA_ARGS__, NULL};            \
  __attribute__((constructor)) static void s##_suite_reg(void) {               \
    evt_test_register_suite(&s##_suite);                                       \
  }

/* The optional message arguments are a printf format and its values. */
#define EVT_TEST_CHECK(cond, expr, ...)                                        \
  do {                                                                         \
    if (!(cond))                                                               \
      evt_test_fail(__FILE__, __LINE__, expr, "" __VA_ARGS__);                 \
  } while (0)

#define cr_assert(c, ...) EVT_TEST_CHECK((c), #c, __VA_ARGS__)
#define cr_assert_not(c, ...) EVT_TEST_CHECK(!(c), "!(" #c ")", __VA_ARGS__)
#define cr_assert_eq(a, b, ...) EVT_TEST_CHECK((a) == (b), #a " == " #b, __VA_ARGS__)
#define cr_assert_neq(a, b, ...) EVT_TEST_CHECK((a) != (b), #a " != " #b, __VA_ARGS__)
#define cr_assert_gt(a, b, ...) EVT_TEST_CHECK((a) > (b), #a " > " #b, __VA_ARGS__)
#define cr_assert_geq(a, b, ...) EVT_TEST_CHECK((a) >= (b), #a " >= " #b, __VA_ARGS__)
#define cr_assert_lt(a, b, ...) EVT_TEST_CHECK((a) < (b), #a " < " #b, __VA_ARGS__)
#define cr_assert_leq(a, b, ...) EVT_TEST_CHECK((a) <= (b), #a " <= " #b, __VA_ARGS__)
#define cr_assert_null(p, ...) EVT_TEST_CHECK((p) == NULL, #p " == NULL", __VA_ARGS__)
#define cr_assert_not_null(p, ...) EVT_TEST_CHECK((p) != NULL, #p " != NULL", __VA_ARGS__)
#define cr_assert_str_eq(a, b, ...)                                            \
  EVT_TEST_CHECK(strcmp((a), (b)) == 0, "strcmp(" #a ", " #b ") == 0", __VA_ARGS__)
#define cr_assert_fail(...) EVT_TEST_CHECK(0, "cr_assert_fail", __VA_ARGS__)
#define cr_skip_test(...)                                                      \
  do {                                                                         \
    evt_test_skip("" __VA_ARGS__);                                             \
    return;                                                                    \
  } while (0)
#define cr_log_info(...)                                                       \
  do {                                                                         \
    fprintf(stderr, __VA_ARGS__);                                              \
    fputc('\n', stderr);                                                       \
  } while (0)

#endif
