/* Search latency from C: the thinnest client there is (blocking nghttp2), so what it measures is
 * the server's cost plus loopback. Used by dpq-grpc-bench --c-client.
 *
 *   latency HOST PORT COLLECTION DIM QUERIES_FILE COUNT K
 *
 * QUERIES_FILE holds float32 rows of DIM values (little-endian); COUNT single-query searches cycle
 * through them after 100 warm-up calls, then 1000 health checks. Prints one JSON object with p50
 * and p99 in milliseconds. */
#include "dpq_client.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec * 1e-9;
}

static int cmp(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

static double pct(double *v, size_t n, double p) {
  qsort(v, n, sizeof *v, cmp);
  return v[(size_t)((n - 1) * p + 0.5)] * 1e3;
}

int main(int argc, char **argv) {
  if (argc != 8) {
    fprintf(stderr, "usage: %s HOST PORT COLLECTION DIM QUERIES_FILE COUNT K\n", argv[0]);
    return 2;
  }
  size_t dim = strtoul(argv[4], NULL, 10), count = strtoul(argv[6], NULL, 10);
  uint32_t k = (uint32_t)strtoul(argv[7], NULL, 10);
  FILE *f = fopen(argv[5], "rb");
  if (!f || dim == 0 || count == 0) {
    fprintf(stderr, "latency: cannot read %s (or DIM/COUNT is 0)\n", argv[5]);
    return 2;
  }
  fseek(f, 0, SEEK_END);
  size_t rows = (size_t)ftell(f) / (dim * sizeof(float));
  rewind(f);
  float *q = malloc(rows * dim * sizeof(float));
  if (!q || rows == 0 || fread(q, sizeof(float), rows * dim, f) != rows * dim) {
    fprintf(stderr, "latency: short queries file\n");
    return 2;
  }
  fclose(f);
  dpq_error err;
  dpq_client *c = dpq_connect(argv[1], atoi(argv[2]), 30000, &err);
  if (!c) {
    fprintf(stderr, "latency: connect: %s\n", err.message);
    return 1;
  }
  double *t = malloc((count > 1000 ? count : 1000) * sizeof(double));
  for (size_t i = 0; i < count + 100; i++) {
    dpq_search_result r;
    double t0 = now();
    if (dpq_search(c, argv[3], q + (i % rows) * dim, 1, dim, k, 0, &r, &err) != 0) {
      fprintf(stderr, "latency: search: %s\n", err.message);
      return 1;
    }
    if (i >= 100) t[i - 100] = now() - t0;
    dpq_search_result_free(&r);
  }
  double s50 = pct(t, count, 0.5), s99 = pct(t, count, 0.99);
  for (size_t i = 0; i < 1000; i++) {
    int st;
    double t0 = now();
    if (dpq_health(c, "", &st, &err) != 0) {
      fprintf(stderr, "latency: health: %s\n", err.message);
      return 1;
    }
    t[i] = now() - t0;
  }
  printf("{\"search_p50_ms\": %.6f, \"search_p99_ms\": %.6f, \"health_p50_ms\": %.6f, \"health_p99_ms\": %.6f}\n",
         s50, s99, pct(t, 1000, 0.5), pct(t, 1000, 0.99));
  dpq_close(c);
  free(t);
  free(q);
  return 0;
}
