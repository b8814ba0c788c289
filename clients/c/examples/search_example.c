/*
 * search_example: connect to a DPQ server, check its health and search a collection.
 *
 *   build/search_example HOST PORT COLLECTION K BITS v1,v2,...,vd [v1,v2,... more queries]
 *   build/search_example 127.0.0.1 50051 demo 5 8 0.1,0.2,...
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dpq_client.h"

/* Parses "v1,v2,..." into out (at most cap values); returns the count. */
static size_t parse_vector(const char *s, float *out, size_t cap) {
  size_t n = 0;
  while (*s && n < cap) {
    char *end;
    out[n++] = strtof(s, &end);
    if (end == s) return 0;
    s = (*end == ',') ? end + 1 : end;
  }
  return n;
}

int main(int argc, char **argv) {
  if (argc < 7) {
    fprintf(stderr, "usage: %s HOST PORT COLLECTION K BITS v1,v2,... [more queries]\n", argv[0]);
    return 2;
  }
  const char *host = argv[1], *collection = argv[3];
  int port = atoi(argv[2]);
  uint32_t k = (uint32_t)strtoul(argv[4], NULL, 10), bits = (uint32_t)strtoul(argv[5], NULL, 10);

  /* Queries: one per argument, all of the same dimension, row-major. */
  size_t n_queries = (size_t)(argc - 6), dim = 0;
  float *queries = NULL, row[4096];
  for (size_t q = 0; q < n_queries; q++) {
    size_t d = parse_vector(argv[6 + q], row, sizeof row / sizeof row[0]);
    if (d == 0 || (dim && d != dim)) {
      fprintf(stderr, "query %zu: expected %zu comma-separated numbers\n", q, dim);
      free(queries);
      return 2;
    }
    if (!dim) {
      dim = d;
      queries = malloc(n_queries * dim * sizeof *queries);
      if (!queries) return 1;
    }
    memcpy(queries + q * dim, row, dim * sizeof *row);
  }

  dpq_error err;
  dpq_client *client = dpq_connect(host, port, 5000 /* ms: connect timeout and per-call deadline */, &err);
  if (!client) {
    fprintf(stderr, "connect: %s (%d): %s\n", dpq_status_name(err.code), err.code, err.message);
    free(queries);
    return 1;
  }

  int serving = 0;
  if (dpq_health(client, "", &serving, &err) != DPQ_OK) {
    fprintf(stderr, "health: %s: %s\n", dpq_status_name(err.code), err.message);
  } else {
    printf("health: %s\n", serving == DPQ_HEALTH_SERVING ? "SERVING" : "NOT SERVING");
  }

  dpq_search_result res;
  int rc = dpq_search(client, collection, queries, n_queries, dim, k, bits, &res, &err);
  if (rc != DPQ_OK) {
    fprintf(stderr, "search: %s (%d): %s\n", dpq_status_name(rc), rc, err.message);
  } else {
    printf("searched %llu items at %u bits\n", (unsigned long long)res.searched_items, res.bits);
    for (size_t q = 0; q < res.n_queries; q++) {
      printf("query %zu:\n", q);
      for (size_t h = 0; h < res.queries[q].n_hits; h++) {
        const dpq_hit *hit = &res.queries[q].hits[h];
        if (hit->id.is_str)
          printf("  %-12s score %.6f", hit->id.str, hit->score);
        else
          printf("  %-12llu score %.6f", (unsigned long long)hit->id.num, hit->score);
        printf("  labels");
        for (size_t l = 0; l < hit->n_labels; l++) printf(" %u", hit->labels[l]);
        printf("\n");
      }
    }
    dpq_search_result_free(&res);
  }

  dpq_close(client);
  free(queries);
  return rc == DPQ_OK ? 0 : 1;
}
