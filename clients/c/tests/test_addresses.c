/*
 * test_addresses: dpq_connect_any, the client of several servers (issue 14), against the real server
 * of tests/run.sh plus two stand-ins made here: a port nobody listens on (connection refused) and a
 * "failing server", a child process that accepts connections and closes each one as soon as a request
 * arrives (what a server killed in the middle of a call looks like).
 *
 *   test_addresses --host H --port P --collection C
 *
 * Checks: bad lists are INVALID_ARGUMENT naming the entry; new clients start at successive addresses;
 * connecting skips a refused address; a call that may be repeated (health, Search) and ends UNAVAILABLE
 * is sent again to the other server, one that may not (StartTraining) is not.
 */
#define _GNU_SOURCE

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "dpq_client.h"

#include "check.h"

/* A listening socket on a free loopback port; *port receives the port. */
static int listen_any(int *port) {
  int s = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK), .sin_port = 0};
  socklen_t len = sizeof a;
  if (s < 0 || bind(s, (struct sockaddr *)&a, sizeof a) != 0 || listen(s, 16) != 0 ||
      getsockname(s, (struct sockaddr *)&a, &len) != 0) {
    perror("listen_any");
    exit(2);
  }
  *port = ntohs(a.sin_port);
  return s;
}

/* The failing server: accepts, reads whatever comes first, closes. Runs until killed. */
static pid_t failing_server(int *port) {
  int l = listen_any(port);
  pid_t pid = fork();
  if (pid == 0) {
    for (;;) {
      int s = accept(l, NULL, NULL);
      if (s < 0) _exit(0);
      char buf[4096];
      /* The preface and SETTINGS come at connect time; wait for the request's HEADERS too. */
      usleep(50 * 1000);
      while (recv(s, buf, sizeof buf, MSG_DONTWAIT) > 0) {
      }
      close(s);
    }
  }
  close(l);
  return pid;
}

static int expect_invalid(const char *list, const char *fragment) {
  dpq_error err;
  dpq_client *c = dpq_connect_any(list, 2000, &err);
  int ok = c == NULL && err.code == DPQ_INVALID_ARGUMENT && strstr(err.message, fragment) != NULL;
  check(ok, "dpq_connect_any(\"%s\") -> INVALID_ARGUMENT naming it (%s: %s)", list, dpq_status_name(err.code), err.message);
  dpq_close(c);
  return ok;
}

int main(int argc, char **argv) {
  const char *host = "127.0.0.1", *coll = NULL;
  int port = 0;
  if (server_args(argc, argv, &host, &port, &coll)) return 2;
  char live[64], refused[64], failing[64], list[256];
  snprintf(live, sizeof live, "%s:%d", host, port);
  int dead_port;
  close(listen_any(&dead_port)); /* free again: connecting to it is refused */
  snprintf(refused, sizeof refused, "127.0.0.1:%d", dead_port);
  int fail_port;
  pid_t fail_pid = failing_server(&fail_port);
  snprintf(failing, sizeof failing, "127.0.0.1:%d", fail_port);
  dpq_error err;

  /* 1. Lists. */
  expect_invalid("", "no address");
  expect_invalid("127.0.0.1", "has no port");
  expect_invalid("127.0.0.1:0", "not a number in 1..65535");
  expect_invalid("127.0.0.1:70000", "not a number in 1..65535");
  expect_invalid("::1:5000", "[addr]:port");
  expect_invalid("[::1]5000", "[addr]:port");
  snprintf(list, sizeof list, "%s,,%s", live, live);
  expect_invalid(list, "address '' has no port");
  snprintf(list, sizeof list, " %s , [::1]:%d ", live, port);
  dpq_client *spaced = dpq_connect_any(list, 5000, &err);
  check(spaced != NULL, "a list with spaces and an IPv6 entry is accepted (%s)", spaced ? dpq_current_address(spaced) : err.message);
  dpq_close(spaced);

  /* 2. Connecting skips a refused address, whichever the client starts at. */
  snprintf(list, sizeof list, "%s,%s", refused, live);
  for (int i = 0; i < 2; i++) {
    int64_t t0 = now_ms();
    dpq_client *c = dpq_connect_any(list, 5000, &err);
    int status = -1;
    int rc = c ? dpq_health(c, "", &status, &err) : err.code;
    int64_t took = now_ms() - t0;
    check(c && rc == DPQ_OK && !strcmp(dpq_current_address(c), live) && took < 3000,
          "client %d of [refused, live] is connected to the live server (%s, %lld ms)", i,
          c ? dpq_current_address(c) : err.message, (long long)took);
    dpq_close(c);
  }

  /* 3. New clients start at successive addresses. */
  snprintf(list, sizeof list, "%s,%s", live, failing);
  dpq_client *a = dpq_connect_any(list, 5000, &err), *b = dpq_connect_any(list, 5000, &err);
  check(a && b && strcmp(dpq_current_address(a), dpq_current_address(b)) != 0,
        "two clients of one list start at different servers (%s, %s)", a ? dpq_current_address(a) : "-",
        b ? dpq_current_address(b) : "-");
  dpq_client *on_failing = a && !strcmp(dpq_current_address(a), failing) ? a : b;
  dpq_client *other = on_failing == a ? b : a;

  /* 4. A call that may not be repeated, on the failing server: UNAVAILABLE, not sent elsewhere. */
  dpq_training_job job;
  memset(&job, 0, sizeof job);
  int rc = dpq_start_training(on_failing, coll, NULL, NULL, &job, &err);
  check(rc == DPQ_UNAVAILABLE, "StartTraining on a server that drops the call -> UNAVAILABLE, not retried elsewhere (%s: %s)",
        dpq_status_name(rc), err.message);

  /* 5. Calls that may be repeated go on to the live server. */
  int status = -1;
  rc = dpq_health(on_failing, "", &status, &err);
  check(rc == DPQ_OK && status == DPQ_HEALTH_SERVING && !strcmp(dpq_current_address(on_failing), live),
        "health on the failing server is retried on the live one (%s, now on %s)", dpq_status_name(rc),
        dpq_current_address(on_failing));
  /* Back on the failing server for a search: retried on the live one too. */
  dpq_close(other);
  snprintf(list, sizeof list, "%s,%s", failing, live);
  dpq_client *s = NULL;
  for (int i = 0; i < 4 && !s; i++) { /* the counter decides where a client starts: take one on the failing server */
    dpq_client *c = dpq_connect_any(list, 5000, &err);
    if (c && !strcmp(dpq_current_address(c), failing)) s = c;
    else dpq_close(c);
  }
  if (check(s != NULL, "a client starting on the failing server")) {
    float q[16] = {0};
    dpq_search_options opts = {0};
    dpq_search_result res;
    memset(&res, 0, sizeof res);
    rc = dpq_search_ex(s, coll, q, 1, 16, 3, 0, &opts, &res, &err);
    check(rc == DPQ_OK && res.n_queries == 1 && res.queries[0].n_hits == 3,
          "Search on the failing server is retried on the live one (%s: %s)", dpq_status_name(rc), err.message);
    dpq_search_result_free(&res);
    dpq_close(s);
  }
  dpq_close(on_failing);

  kill(fail_pid, SIGKILL);
  waitpid(fail_pid, NULL, 0);
  printf("%d passed, %d failed\n", n_passed, n_failed);
  return n_failed ? 1 : 0;
}
