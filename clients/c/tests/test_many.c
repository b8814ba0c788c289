/*
 * test_many: many concurrent unary calls on one connection (issue 17), against a real server
 * (driven by tests/run.sh after the other client tests).
 *
 *   test_many --host H --port P --collection C --queries FILE [--calls N] [--rounds R]
 *
 * Runs N (default 1000) Search calls at once with dpq_unary_call_many: one dpq_client, so one
 * HTTP/2 connection and one nghttp2 session with N streams (nghttp2 opens at most the server's
 * SETTINGS_MAX_CONCURRENT_STREAMS at a time and queues the rest). Every call must end OK or
 * RESOURCE_EXHAUSTED (the server's limit on concurrent RPCs), none UNAVAILABLE or anything else;
 * the OK responses must parse and carry k hits per query; the server must answer health checks
 * afterwards, on the same client and on a new connection. R rounds (default 2) reuse the connection.
 */
#define _POSIX_C_SOURCE 200809L
#define _DEFAULT_SOURCE

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dpq/v1/search.pb-c.h"
#include "dpq_client.h"

#include "check.h"
#include "testdata.h"

int main(int argc, char **argv) {
  const char *host = "127.0.0.1", *coll = NULL, *queries_path = NULL;
  int port = 0, n = 1000, rounds = 2;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!strcmp(argv[i], "--host")) host = argv[i + 1];
    else if (!strcmp(argv[i], "--port")) port = atoi(argv[i + 1]);
    else if (!strcmp(argv[i], "--collection")) coll = argv[i + 1];
    else if (!strcmp(argv[i], "--queries")) queries_path = argv[i + 1];
    else if (!strcmp(argv[i], "--calls")) n = atoi(argv[i + 1]);
    else if (!strcmp(argv[i], "--rounds")) rounds = atoi(argv[i + 1]);
    else {
      fprintf(stderr, "bad argument %s\n", argv[i]);
      return 2;
    }
  }
  if (!coll || !queries_path || port <= 0 || n <= 0 || rounds <= 0) {
    fprintf(stderr, "usage: %s --host H --port P --collection C --queries FILE [--calls N] [--rounds R]\n", argv[0]);
    return 2;
  }
  size_t nq = 0, dim = 0;
  float *queries = read_queries(queries_path, &nq, &dim);
  if (!queries || !nq) return 2;

  Dpq__V1__DenseVectors qv = DPQ__V1__DENSE_VECTORS__INIT;
  qv.dimension = (uint32_t)dim;
  qv.n_values = nq * dim;
  qv.values = queries;
  Dpq__V1__SearchRequest sr = DPQ__V1__SEARCH_REQUEST__INIT;
  sr.collection = (char *)coll;
  sr.queries = &qv;
  sr.k = 5;
  sr.bits = 8;
  size_t len = dpq__v1__search_request__get_packed_size(&sr);
  uint8_t *req = malloc(len);
  dpq__v1__search_request__pack(&sr, req);

  dpq_error err;
  dpq_client *c = dpq_connect(host, port, 60000, &err);
  if (!check(c != NULL, "connect to %s:%d %s", host, port, c ? "" : err.message)) return 1;
  dpq_batch_call *calls = calloc((size_t)n, sizeof *calls);
  for (int r = 0; r < rounds; r++) {
    for (int i = 0; i < n; i++) {
      calls[i].path = "/dpq.v1.SearchService/Search";
      calls[i].request = req;
      calls[i].request_len = len;
    }
    int64_t t0 = now_ms();
    int rc = dpq_unary_call_many(c, calls, (size_t)n, &err);
    int64_t took = now_ms() - t0;
    int ok = 0, exhausted = 0, unavailable = 0, other = 0, bad = 0, other_code = 0;
    char other_msg[512] = "";
    for (int i = 0; i < n; i++) {
      int st = calls[i].status;
      if (st == DPQ_OK) {
        ok++;
        Dpq__V1__SearchResponse *sres = dpq__v1__search_response__unpack(NULL, calls[i].response_len, calls[i].response);
        if (!sres || sres->n_results != nq || sres->results[0]->n_hits != 5) bad++;
        if (sres) dpq__v1__search_response__free_unpacked(sres, NULL);
      } else if (st == DPQ_RESOURCE_EXHAUSTED) {
        exhausted++;
      } else {
        if (st == DPQ_UNAVAILABLE) unavailable++;
        else other++;
        if (!other_msg[0]) {
          other_code = st;
          snprintf(other_msg, sizeof other_msg, "%s", calls[i].error.message);
        }
      }
    }
    printf("round %d: %d calls in %lld ms: %d OK, %d RESOURCE_EXHAUSTED, %d UNAVAILABLE, %d other%s%s%s%s\n", r + 1, n,
           (long long)took, ok, exhausted, unavailable, other, other_msg[0] ? " (first: " : "",
           other_msg[0] ? dpq_status_name(other_code) : "", other_msg[0] ? ": " : "", other_msg);
    check(unavailable == 0 && other == 0 && ok + exhausted == n && ok > 0 && bad == 0 &&
              (rc == DPQ_OK || rc == DPQ_RESOURCE_EXHAUSTED),
          "round %d: %d concurrent Search calls on one connection: %d OK (%d bad responses), %d RESOURCE_EXHAUSTED, "
          "%d UNAVAILABLE, %d other, in %lld ms",
          r + 1, n, ok, bad, exhausted, unavailable, other, (long long)took);
    if (exhausted) {
      for (int i = 0; i < n; i++)
        if (calls[i].status == DPQ_RESOURCE_EXHAUSTED) {
          printf("  RESOURCE_EXHAUSTED message: %s\n", calls[i].error.message);
          break;
        }
    }
    dpq_batch_call_free(calls, (size_t)n);
    int serving = 0;
    rc = dpq_health(c, "", &serving, &err);
    check(rc == DPQ_OK && serving == DPQ_HEALTH_SERVING, "round %d: health on the same client afterwards (rc %d %s)", r + 1,
          rc, err.message);
  }
  dpq_close(c);
  dpq_client *c2 = dpq_connect(host, port, 10000, &err);
  int serving = 0;
  int rc = c2 ? dpq_health(c2, "", &serving, &err) : err.code;
  check(rc == DPQ_OK && serving == DPQ_HEALTH_SERVING, "the server is up: health on a new connection (rc %d %s)", rc,
        err.message);
  dpq_close(c2);
  free(calls);
  free(req);
  free(queries);
  printf("%d passed, %d failed\n", n_passed, n_failed);
  return n_failed ? 1 : 0;
}
