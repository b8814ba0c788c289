/* Test bookkeeping shared by test_client.c and test_hostile.c: one PASS/FAIL line per check,
 * counted for the final summary, and a monotonic clock in milliseconds for deadlines. */
#ifndef DPQ_TESTS_CHECK_H
#define DPQ_TESTS_CHECK_H

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

static int n_passed, n_failed;

#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
static int check(int ok, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  printf("%s ", ok ? "PASS" : "FAIL");
  vprintf(fmt, ap);
  printf("\n");
  va_end(ap);
  fflush(stdout);
  if (ok)
    n_passed++;
  else
    n_failed++;
  return ok;
}

static int64_t now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

#endif
