/* Test bookkeeping shared by the C client's tests: one PASS/FAIL line per check, counted for the
 * final summary, a monotonic clock in milliseconds for deadlines, and the common server arguments. */
#ifndef DPQ_TESTS_CHECK_H
#define DPQ_TESTS_CHECK_H

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

/* The arguments every test against a running server takes: --host H --port P --collection C.
 * Returns 0, or 2 after printing the usage when the port or collection is missing. */
static inline int server_args(int argc, char **argv, const char **host, int *port, const char **coll) {
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!strcmp(argv[i], "--host")) *host = argv[i + 1];
    else if (!strcmp(argv[i], "--port")) *port = atoi(argv[i + 1]);
    else if (!strcmp(argv[i], "--collection")) *coll = argv[i + 1];
  }
  if (!*coll || *port <= 0) {
    fprintf(stderr, "usage: %s --host H --port P --collection C\n", argv[0]);
    return 2;
  }
  return 0;
}

#endif
