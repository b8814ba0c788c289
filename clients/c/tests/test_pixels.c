/*
 * test_pixels: 8-bit input (DenseVectors.uint8_values, Vector.uint8_values) from the C client,
 * against a real server (driven by tests/run.sh).
 *
 *   test_pixels --host H --port P --collection C
 *
 * Byte b means the value b, so dpq_search_u8 must return exactly what dpq_search_ex returns for
 * the same values as floats, and an item upserted as pixels must score exactly like the same item
 * upserted as floats. The collection (16-d) gets two items with ids 900001 and 900002.
 */
#define _POSIX_C_SOURCE 200809L

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dpq_client.h"

#include "check.h"

enum { DIM = 16, NQ = 3 };

int main(int argc, char **argv) {
  const char *host = "127.0.0.1", *coll = NULL;
  int port = 0;
  if (server_args(argc, argv, &host, &port, &coll)) return 2;
  dpq_error err;
  int64_t start = now_ms();
  dpq_client *c = dpq_connect(host, port, 10000, &err);
  if (!check(c != NULL, "connect (%s)", err.message)) return 1;

  uint8_t qb[NQ * DIM];
  float qf[NQ * DIM];
  for (int i = 0; i < NQ * DIM; i++) {
    qb[i] = (uint8_t)((i * 37 + 11) % 7);  /* small values: near the clustered data */
    qf[i] = (float)qb[i];
  }
  dpq_search_options opts = {0};
  dpq_search_result a, b;
  int r1 = dpq_search_u8(c, coll, qb, NQ, DIM, 5, 0, &opts, &a, &err);
  int r2 = dpq_search_ex(c, coll, qf, NQ, DIM, 5, 0, &opts, &b, &err);
  int same = r1 == DPQ_OK && r2 == DPQ_OK && a.n_queries == NQ && b.n_queries == NQ;
  for (size_t q = 0; same && q < NQ; q++) {
    same = a.queries[q].n_hits == 5 && b.queries[q].n_hits == 5;
    for (size_t h = 0; same && h < 5; h++)
      same = a.queries[q].hits[h].score == b.queries[q].hits[h].score && a.queries[q].hits[h].id.num == b.queries[q].hits[h].id.num;
  }
  check(same, "dpq_search_u8 returns what dpq_search_ex returns for the same values (rc %d/%d) %s", r1, r2, err.message);
  dpq_search_result_free(&a);
  dpq_search_result_free(&b);

  /* The same vector upserted as pixels (id 900001) and as floats (id 900002): equal scores for a query equal to it. */
  dpq_stream *s = NULL;
  dpq_item items[2] = {{.id = {.num = 900001}, .pixels = qb}, {.id = {.num = 900002}, .vector = qf}};
  dpq_upsert_result res;
  int rc = dpq_upsert_stream_open(c, coll, &s, &err);
  if (rc == DPQ_OK) rc = dpq_upsert_stream_send(s, items, 2, DIM, &err);
  int frc = s ? dpq_upsert_stream_finish(s, &res, &err) : rc;
  check(rc == DPQ_OK && frc == DPQ_OK, "upsert one item as pixels and one as floats (rc %d/%d) %s", rc, frc, err.message);
  dpq_search_options metric = {.metric = DPQ_METRIC_SQUARED_L2};
  rc = dpq_search_u8(c, coll, qb, 1, DIM, 2, 0, &metric, &a, &err);
  int found = rc == DPQ_OK && a.n_queries == 1 && a.queries[0].n_hits == 2;
  if (found) {
    dpq_hit *h = a.queries[0].hits;
    uint64_t ids = h[0].id.num + h[1].id.num;
    found = ids == 900001 + 900002 && h[0].score == h[1].score;
    check(found, "both items are the query's nearest, with equal scores (%llu %g, %llu %g)",
          (unsigned long long)h[0].id.num, h[0].score, (unsigned long long)h[1].id.num, h[1].score);
  } else {
    check(0, "search after the upsert (rc %d) %s", rc, err.message);
  }
  if (rc == DPQ_OK) dpq_search_result_free(&a);

  /* A dimension that does not fit: INVALID_ARGUMENT naming the field. */
  rc = dpq_search_u8(c, coll, qb, 1, DIM - 1, 2, 0, NULL, &a, &err);
  check(rc == DPQ_INVALID_ARGUMENT && strstr(err.message, "queries.dimension"), "wrong dimension -> INVALID_ARGUMENT (%d: %s)", rc,
        err.message);
  if (rc == DPQ_OK) dpq_search_result_free(&a);
  dpq_close(c);
  printf("test_pixels: %lld ms\n", (long long)(now_ms() - start));
  printf("%d passed, %d failed\n", n_passed, n_failed);
  return n_failed ? 1 : 0;
}
