/*
 * test_client: tests of the DPQ C client against a real server (driven by tests/run.sh).
 *
 *   test_client gen DIR
 *       writes deterministic test data: DIR/train.jsonl (training rows), DIR/items.jsonl (items; rows
 *       without "id" get numeric ids = row index from `dpq upsert`), DIR/queries.txt (one query per
 *       line, comma-separated, as given to `dpq search --vector=`).
 *   test_client run --host H --port P --collection C --queries FILE --k K --expected BITS=FILE ...
 *       runs the tests; each --expected file is the `dpq search --json` output (Swift client) for
 *       the queries at BITS bits. Prints one line per check and finally "N passed, M failed".
 */
#define _POSIX_C_SOURCE 200809L
#define _DEFAULT_SOURCE

#include <arpa/inet.h>
#include <math.h>
#include <stdarg.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "dpq_client.h"

/* ------------------------------------------------------------------------------------------ */
/* Test bookkeeping                                                                             */

#include "check.h"
#include "testdata.h"

/* ------------------------------------------------------------------------------------------ */
/* Deterministic data                                                                           */

#define DIM 16
#define CLASSES 4
#define TRAIN_ROWS 400
#define ITEMS 64
#define QUERIES 6

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;
static double rng_uniform(void) { /* xorshift64*, in (0, 1) */
  rng_state ^= rng_state >> 12;
  rng_state ^= rng_state << 25;
  rng_state ^= rng_state >> 27;
  return ((double)((rng_state * 2685821657736338717ull) >> 11) + 0.5) / 9007199254740992.0;
}
static double rng_gauss(void) { return sqrt(-2.0 * log(rng_uniform())) * cos(6.283185307179586 * rng_uniform()); }

static void write_row(FILE *f, const double *center, double noise, const char *sep) {
  for (int d = 0; d < DIM; d++) fprintf(f, "%s%.4f", d ? sep : "", center[d] + noise * rng_gauss());
}

static int gen(const char *dir) {
  double centers[CLASSES][DIM];
  for (int c = 0; c < CLASSES; c++)
    for (int d = 0; d < DIM; d++) centers[c][d] = 3.0 * rng_gauss();
  char path[4096];
  snprintf(path, sizeof path, "%s/train.jsonl", dir);
  FILE *f = fopen(path, "w");
  if (!f) return perror(path), 1;
  for (int i = 0; i < TRAIN_ROWS; i++) {
    fprintf(f, "{\"vector\": [");
    write_row(f, centers[i % CLASSES], 1.0, ", ");
    fprintf(f, "], \"labels\": [%d]}\n", i % CLASSES);
  }
  fclose(f);
  snprintf(path, sizeof path, "%s/items.jsonl", dir);
  if (!(f = fopen(path, "w"))) return perror(path), 1;
  for (int i = 0; i < ITEMS; i++) {
    fprintf(f, "{");
    if ((i / CLASSES) % 2) fprintf(f, "\"id\": \"item-%d\", ", i); /* string id; else numeric id i */
    fprintf(f, "\"vector\": [");
    write_row(f, centers[i % CLASSES], 1.0, ", ");
    fprintf(f, "], \"labels\": [%d]}\n", i % CLASSES);
  }
  fclose(f);
  snprintf(path, sizeof path, "%s/queries.txt", dir);
  if (!(f = fopen(path, "w"))) return perror(path), 1;
  for (int q = 0; q < QUERIES; q++) {
    write_row(f, centers[q % CLASSES], 1.0, ",");
    fprintf(f, "\n");
  }
  fclose(f);
  return 0;
}

/* ------------------------------------------------------------------------------------------ */
/* Checks                                                                                       */

/* Compares a dpq_search_result with the Swift CLI's `dpq search --json` output:
 * [[{"id": 7 | "str", "labels": [..], "score": x}, ...], ...] */
static void compare_with_cli(const dpq_search_result *res, const jv *exp, uint32_t bits, int *saw_num, int *saw_str) {
  if (!check(exp->type == J_ARR && exp->n == res->n_queries, "bits %u: %zu query results (CLI: %zu)", bits,
             res->n_queries, exp->n))
    return;
  size_t total = 0, bad_ids = 0, bad_scores = 0, bad_labels = 0, bad_counts = 0;
  double max_diff = 0;
  for (size_t q = 0; q < res->n_queries; q++) {
    const jv *eq = &exp->items[q];
    const dpq_query_result *rq = &res->queries[q];
    if (eq->type != J_ARR || eq->n != rq->n_hits) {
      bad_counts++;
      printf("  query %zu: %zu hits, CLI %zu\n", q, rq->n_hits, eq->type == J_ARR ? eq->n : 0);
      continue;
    }
    for (size_t h = 0; h < rq->n_hits; h++) {
      const dpq_hit *hit = &rq->hits[h];
      const jv *eh = &eq->items[h], *eid = jv_get(eh, "id"), *esc = jv_get(eh, "score"), *elab = jv_get(eh, "labels");
      total++;
      int id_ok = 0;
      if (eid && eid->type == J_STR) id_ok = hit->id.is_str && !strcmp(hit->id.str, eid->str);
      else if (eid && eid->type == J_NUM) id_ok = !hit->id.is_str && hit->id.num == strtoull(eid->str, NULL, 10);
      if (hit->id.is_str) *saw_str = 1; else *saw_num = 1;
      if (!id_ok) {
        bad_ids++;
        if (hit->id.is_str)
          printf("  query %zu hit %zu: id \"%s\", CLI %s\n", q, h, hit->id.str, eid && eid->str ? eid->str : "?");
        else
          printf("  query %zu hit %zu: id %llu, CLI %s\n", q, h, (unsigned long long)hit->id.num,
                 eid && eid->str ? eid->str : "?");
      }
      double diff = esc && esc->type == J_NUM ? fabs((double)hit->score - esc->num) : INFINITY;
      if (diff > max_diff) max_diff = diff;
      if (!(diff <= 1e-5)) {
        bad_scores++;
        printf("  query %zu hit %zu: score %.9g, CLI %s\n", q, h, hit->score, esc && esc->str ? esc->str : "?");
      }
      int lab_ok = elab && elab->type == J_ARR && elab->n == hit->n_labels;
      for (size_t l = 0; lab_ok && l < hit->n_labels; l++) lab_ok = elab->items[l].num == hit->labels[l];
      if (!lab_ok) bad_labels++;
    }
  }
  check(bad_counts == 0, "bits %u: hit counts per query equal the CLI's", bits);
  check(total > 0 && bad_ids == 0, "bits %u: %zu hit ids equal the CLI's, in order (%zu differ)", bits, total, bad_ids);
  check(total > 0 && bad_scores == 0, "bits %u: scores within 1e-5 of the CLI's (max diff %.3g)", bits, max_diff);
  check(total > 0 && bad_labels == 0, "bits %u: labels equal the CLI's", bits);
}

static int contains(const char *hay, const char *needle) { return strstr(hay, needle) != NULL; }

/* A free TCP port (bound then released): connecting to it is refused. */
static int free_port(void) {
  int s = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in sa;
  memset(&sa, 0, sizeof sa);
  sa.sin_family = AF_INET;
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t sl = sizeof sa;
  if (s < 0 || bind(s, (struct sockaddr *)&sa, sizeof sa) || getsockname(s, (struct sockaddr *)&sa, &sl)) {
    if (s >= 0) close(s);
    return -1;
  }
  close(s);
  return ntohs(sa.sin_port);
}

/* A listening socket that never accepts nor answers: connections succeed (kernel backlog) and
 * every call hangs, so only the client's deadline can end it. */
static int silent_listener(int *port) {
  int s = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in sa;
  memset(&sa, 0, sizeof sa);
  sa.sin_family = AF_INET;
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t sl = sizeof sa;
  if (s < 0 || bind(s, (struct sockaddr *)&sa, sizeof sa) || listen(s, 8) ||
      getsockname(s, (struct sockaddr *)&sa, &sl)) {
    if (s >= 0) close(s);
    return -1;
  }
  *port = ntohs(sa.sin_port);
  return s;
}

static int run(const char *host, int port, const char *collection, const char *queries_path, uint32_t k,
               int n_expected, uint32_t *exp_bits, char **exp_paths) {
  size_t nq = 0, dim = 0;
  float *queries = read_queries(queries_path, &nq, &dim);
  if (!queries || !nq) {
    fprintf(stderr, "no queries in %s\n", queries_path);
    free(queries);
    return 1;
  }
  dpq_error err;
  dpq_client *c = dpq_connect(host, port, 10000, &err);
  if (!check(c != NULL, "connect to %s:%d (%s)", host, port, c ? "ok" : err.message)) {
    free(queries);
    return 1;
  }

  /* Health */
  int serving = -1;
  int rc = dpq_health(c, "", &serving, &err);
  check(rc == DPQ_OK && serving == DPQ_HEALTH_SERVING, "health \"\" is SERVING (rc %d, status %d) %s", rc, serving,
        err.message);
  rc = dpq_health(c, "dpq.v1.SearchService", &serving, &err);
  check(rc == DPQ_OK && serving == DPQ_HEALTH_SERVING, "health dpq.v1.SearchService is SERVING (rc %d, status %d)",
        rc, serving);
  rc = dpq_health(c, "no.such.Service", &serving, &err);
  check(rc == DPQ_NOT_FOUND, "health of an unknown service -> NOT_FOUND (rc %d: %s)", rc, err.message);

  /* Server info and collection */
  dpq_server_info si;
  rc = dpq_get_server_info(c, &si, &err);
  int has_search = 0;
  for (size_t i = 0; rc == DPQ_OK && i < si.n_services; i++) has_search |= !strcmp(si.services[i], "dpq.v1.SearchService");
  check(rc == DPQ_OK && !strcmp(si.api_version, "dpq.v1") && has_search && si.max_k > 0,
        "GetServerInfo: version %s, api %s, %zu services, max_k %u (rc %d %s)", rc ? "?" : si.version,
        rc ? "?" : si.api_version, si.n_services, si.max_k, rc, err.message);
  dpq_server_info_free(&si);

  dpq_collection_info ci;
  rc = dpq_get_collection(c, collection, &ci, &err);
  check(rc == DPQ_OK && ci.state == DPQ_COLLECTION_READY && ci.has_model && ci.input_dimension == dim &&
            ci.item_count == ITEMS && ci.max_bits == 12 && ci.bits_per_block == 4 && ci.bytes_per_code == 1,
        "GetCollection %s: state %d, dim %u, %llu items, M=%u K=%u max_bits %u (rc %d %s)", collection, ci.state,
        ci.input_dimension, (unsigned long long)ci.item_count, ci.blocks, ci.codebook_size, ci.max_bits, rc,
        err.message);
  uint32_t bits_per_block = ci.bits_per_block ? ci.bits_per_block : 4, max_bits = ci.max_bits ? ci.max_bits : 12;
  uint32_t K = ci.codebook_size ? ci.codebook_size : 16, bpc = ci.bytes_per_code ? ci.bytes_per_code : 1;
  int metric = ci.metric; /* the collection's default metric (the server resolves UNSPECIFIED) */
  check(rc == DPQ_OK && (metric == DPQ_METRIC_INNER_PRODUCT || metric == DPQ_METRIC_SQUARED_L2),
        "GetCollection: default metric %d is resolved", metric);
  dpq_collection_info_free(&ci);
  rc = dpq_get_collection(c, "no-such-collection", &ci, &err);
  check(rc == DPQ_NOT_FOUND, "GetCollection of an unknown collection -> NOT_FOUND (rc %d: %s)", rc, err.message);
  dpq_collection_info_free(&ci);

  /* Search, compared with the Swift CLI */
  int saw_num = 0, saw_str = 0;
  for (int e = 0; e < n_expected; e++) {
    jv exp;
    if (!check(read_json_file(exp_paths[e], &exp) == 0, "read CLI output %s", exp_paths[e])) continue;
    dpq_search_result res;
    rc = dpq_search(c, collection, queries, nq, dim, k, exp_bits[e], &res, &err);
    if (check(rc == DPQ_OK, "Search %zu queries, k %u, bits %u (rc %d %s)", nq, k, exp_bits[e], rc, err.message)) {
      check(res.bits == exp_bits[e] && res.metric == metric && res.searched_items == ITEMS,
            "bits %u: response bits %u, metric %d (collection's %d), searched_items %llu", exp_bits[e], res.bits,
            res.metric, metric, (unsigned long long)res.searched_items);
      compare_with_cli(&res, &exp, exp_bits[e], &saw_num, &saw_str);
    }
    dpq_search_result_free(&res);
    jv_free(&exp);
  }
  check(saw_num && saw_str, "hits include numeric ids (%d) and string ids (%d)", saw_num, saw_str);

  /* Search with bits 0 (full code) and with options */
  dpq_search_result res;
  rc = dpq_search(c, collection, queries, 1, dim, 3, 0, &res, &err);
  check(rc == DPQ_OK && res.bits == max_bits && res.n_queries == 1 && res.queries[0].n_hits == 3,
        "Search bits 0 resolves to %u bits, 3 hits", max_bits);
  dpq_search_result_free(&res);
  uint32_t label = 1;
  dpq_search_options opts = {.any_label = &label, .n_any_label = 1, .omit_labels = 1};
  rc = dpq_search_ex(c, collection, queries, nq, dim, 4, 8, &opts, &res, &err);
  int filt_ok = rc == DPQ_OK && res.n_queries == nq;
  for (size_t q = 0; filt_ok && q < res.n_queries; q++) {
    filt_ok = res.queries[q].n_hits == 4;
    for (size_t h = 0; h < res.queries[q].n_hits; h++) filt_ok &= res.queries[q].hits[h].n_labels == 0;
  }
  check(filt_ok, "Search with a label filter and omit_labels (rc %d, searched %llu items) %s", rc,
        (unsigned long long)res.searched_items, err.message);
  dpq_search_result_free(&res);

  /* nprobe: with 64 items the collection has no k-means lists yet (they start at 1,024 items), so
   * every item is scanned, the answer is the exhaustive one and the response says 0 lists. */
  dpq_search_result full, probed;
  dpq_search_options popts = {.nprobe = 4};
  int rc1 = dpq_search(c, collection, queries, nq, dim, 5, 0, &full, &err);
  int rc2 = dpq_search_ex(c, collection, queries, nq, dim, 5, 0, &popts, &probed, &err);
  int same = rc1 == DPQ_OK && rc2 == DPQ_OK && full.n_queries == probed.n_queries && probed.nprobe == 0 && full.nprobe == 0;
  for (size_t q = 0; same && q < full.n_queries; q++) {
    same = full.queries[q].n_hits == probed.queries[q].n_hits;
    for (size_t h = 0; same && h < full.queries[q].n_hits; h++)
      same = full.queries[q].hits[h].score == probed.queries[q].hits[h].score;
  }
  check(same, "Search with nprobe 4 below 1,024 items: the exhaustive answer, nprobe 0 reported (rc %d/%d) %s", rc1, rc2,
        err.message);
  if (rc1 == DPQ_OK) dpq_search_result_free(&full);
  if (rc2 == DPQ_OK) dpq_search_result_free(&probed);
  rc = dpq_get_collection(c, collection, &ci, &err);
  check(rc == DPQ_OK && ci.index_lists == 0, "GetCollection: index_lists %u below 1,024 items", ci.index_lists);
  dpq_collection_info_free(&ci);

  int other = metric == DPQ_METRIC_SQUARED_L2 ? DPQ_METRIC_INNER_PRODUCT : DPQ_METRIC_SQUARED_L2;
  dpq_search_options mopts = {.metric = other};
  rc = dpq_search_ex(c, collection, queries, 1, dim, 5, 12, &mopts, &res, &err);
  int order_ok = rc == DPQ_OK && res.n_queries == 1 && res.queries[0].n_hits == 5;
  for (size_t h = 1; order_ok && h < res.queries[0].n_hits; h++)
    order_ok = other == DPQ_METRIC_SQUARED_L2 ? res.queries[0].hits[h - 1].score <= res.queries[0].hits[h].score
                                              : res.queries[0].hits[h - 1].score >= res.queries[0].hits[h].score;
  check(order_ok && res.metric == other, "Search with metric %d: response metric %d, hits best first (rc %d %s)",
        other, res.metric, rc, err.message);
  dpq_search_result_free(&res);

  /* Encode */
  dpq_encode_result e8, efull;
  rc = dpq_encode(c, collection, queries, nq, dim, 8, &e8, &err);
  uint32_t want8 = 8 / bits_per_block * bpc;
  check(rc == DPQ_OK && e8.bits == 8 && e8.n_codes == nq && e8.code_bytes == want8 && e8.bytes_per_code == bpc,
        "Encode bits 8: %zu codes of %zu bytes (want %zu of %u), bytes_per_code %u (rc %d %s)", e8.n_codes,
        e8.code_bytes, nq, want8, e8.bytes_per_code, rc, err.message);
  rc = dpq_encode(c, collection, queries, nq, dim, 0, &efull, &err);
  uint32_t wantf = max_bits / bits_per_block * bpc;
  check(rc == DPQ_OK && efull.bits == max_bits && efull.n_codes == nq && efull.code_bytes == wantf,
        "Encode bits 0: %u bits, codes of %zu bytes (want %u) (rc %d %s)", efull.bits, efull.code_bytes, wantf, rc,
        err.message);
  if (e8.codes && efull.codes && e8.code_bytes <= efull.code_bytes) {
    int prefix_ok = 1, range_ok = 1;
    for (size_t i = 0; i < nq; i++) {
      prefix_ok &= !memcmp(e8.codes + i * e8.code_bytes, efull.codes + i * efull.code_bytes, e8.code_bytes);
      for (size_t b = 0; bpc == 1 && b < efull.code_bytes; b++) range_ok &= efull.codes[i * efull.code_bytes + b] < K;
    }
    check(prefix_ok, "the 8-bit codes are prefixes of the full codes");
    check(range_ok, "every code word is < K = %u", K);
  }
  dpq_encode_result_free(&e8);
  dpq_encode_result_free(&efull);

  /* Error statuses */
  rc = dpq_search(c, collection, queries, 2, 8, k, 8, &res, &err); /* 16 floats read as 2 rows of 8 */
  check(rc == DPQ_INVALID_ARGUMENT && contains(err.message, "dimension") && err.code == rc,
        "Search with dimension 8 -> INVALID_ARGUMENT naming the field (rc %d: %s)", rc, err.message);
  dpq_search_result_free(&res);
  rc = dpq_encode(c, collection, queries, 2, 8, 8, &e8, &err);
  check(rc == DPQ_INVALID_ARGUMENT && contains(err.message, "dimension"),
        "Encode with dimension 8 -> INVALID_ARGUMENT naming the field (rc %d: %s)", rc, err.message);
  rc = dpq_search(c, collection, queries, 1, dim, k, 5, &res, &err);
  check(rc == DPQ_INVALID_ARGUMENT && contains(err.message, "bits"),
        "Search with bits 5 -> INVALID_ARGUMENT naming bits (rc %d: %s)", rc, err.message);
  rc = dpq_search(c, collection, queries, 1, dim, 0, 8, &res, &err);
  check(rc == DPQ_INVALID_ARGUMENT && contains(err.message, "k"), "Search with k 0 -> INVALID_ARGUMENT (rc %d: %s)",
        rc, err.message);
  rc = dpq_search(c, "no-such-collection", queries, 1, dim, k, 8, &res, &err);
  check(rc == DPQ_NOT_FOUND && contains(err.message, "no-such-collection"),
        "Search of an unknown collection -> NOT_FOUND (rc %d: %s)", rc, err.message);
  rc = dpq_encode(c, "no-such-collection", queries, 1, dim, 8, &e8, &err);
  check(rc == DPQ_NOT_FOUND, "Encode of an unknown collection -> NOT_FOUND (rc %d: %s)", rc, err.message);
  /* grpc-message is percent-encoded on the wire ('%' and non-ASCII bytes): check it is decoded. */
  rc = dpq_search(c, "h\xc3\xa9llo%41", queries, 1, dim, k, 8, &res, &err);
  check(rc != DPQ_OK && contains(err.message, "h\xc3\xa9llo%41"),
        "grpc-message is percent-decoded (rc %d: %s)", rc, err.message);
  rc = dpq_search(c, collection, NULL, 1, dim, k, 8, &res, &err);
  check(rc == DPQ_INVALID_ARGUMENT, "local argument check: NULL queries -> INVALID_ARGUMENT (%s)", err.message);
  rc = dpq_health(c, "", &serving, &err);
  check(rc == DPQ_OK && err.code == DPQ_OK && err.message[0] == '\0',
        "the connection is still usable after error statuses; err cleared on success");

  /* Generic call: ListCollections has an empty request */
  uint8_t *raw = NULL;
  size_t raw_len = 0;
  rc = dpq_unary_call(c, "/dpq.v1.CollectionService/ListCollections", NULL, 0, &raw, &raw_len, &err);
  check(rc == DPQ_OK && raw_len > 0, "dpq_unary_call ListCollections: %zu response bytes (rc %d)", raw_len, rc);
  free(raw);
  rc = dpq_unary_call(c, "/dpq.v1.NoSuchService/Nope", NULL, 0, &raw, &raw_len, &err);
  check(rc == DPQ_UNIMPLEMENTED, "unknown method -> UNIMPLEMENTED (rc %d: %s)", rc, err.message);
  free(raw);

  /* Deadlines */
  dpq_set_timeout(c, 1);
  int64_t t0 = now_ms();
  rc = dpq_search(c, collection, queries, nq, dim, k, 0, &res, &err);
  int64_t took = now_ms() - t0;
  check((rc == DPQ_DEADLINE_EXCEEDED && contains(err.message, "deadline")) || rc == DPQ_OK,
        "1 ms deadline on a real Search: %s in %lld ms (%s)", dpq_status_name(rc), (long long)took,
        rc ? err.message : "the server was faster than 1 ms");
  dpq_search_result_free(&res);
  dpq_set_timeout(c, 10000);
  rc = dpq_health(c, "", &serving, &err);
  check(rc == DPQ_OK && serving == DPQ_HEALTH_SERVING, "the client recovers after a deadline (rc %d %s)", rc,
        err.message);
  dpq_close(c);

  int lport = 0, ls = silent_listener(&lport);
  if (check(ls >= 0, "silent listener on port %d", lport)) {
    t0 = now_ms();
    dpq_client *sc = dpq_connect("127.0.0.1", lport, 300, &err);
    if (check(sc != NULL, "connect to the silent listener (TCP only) %s", sc ? "" : err.message)) {
      rc = dpq_health(sc, "", &serving, &err);
      took = now_ms() - t0;
      check(rc == DPQ_DEADLINE_EXCEEDED && took >= 250 && took < 3000,
            "300 ms deadline against a server that never answers -> DEADLINE_EXCEEDED after %lld ms (%s)",
            (long long)took, err.message);
      t0 = now_ms();
      rc = dpq_search(sc, collection, queries, 1, dim, k, 8, &res, &err);
      took = now_ms() - t0;
      check(rc == DPQ_DEADLINE_EXCEEDED && took < 3000, "and again on a fresh connection (%lld ms, %s)",
            (long long)took, err.message);
      dpq_close(sc);
    }
    close(ls);
  }

  int dead = free_port();
  t0 = now_ms();
  dpq_client *dc = dpq_connect("127.0.0.1", dead, 2000, &err);
  check(dc == NULL && err.code == DPQ_UNAVAILABLE && err.message[0],
        "connect to a closed port %d -> UNAVAILABLE in %lld ms (%s)", dead, (long long)(now_ms() - t0), err.message);
  dpq_close(dc);
  dc = dpq_connect("no-such-host.invalid", 1, 2000, &err);
  check(dc == NULL && err.code == DPQ_UNAVAILABLE, "connect to an unresolvable host -> UNAVAILABLE (%s)", err.message);
  dpq_close(dc);

  free(queries);
  return 0;
}

int main(int argc, char **argv) {
  if (argc == 3 && !strcmp(argv[1], "gen")) return gen(argv[2]);
  if (argc < 2 || strcmp(argv[1], "run")) {
    fprintf(stderr,
            "usage: %s gen DIR\n"
            "       %s run --host H --port P --collection C --queries FILE [--k K] --expected BITS=FILE...\n",
            argv[0], argv[0]);
    return 2;
  }
  const char *host = "127.0.0.1", *collection = NULL, *queries = NULL;
  int port = 0, n_expected = 0;
  uint32_t k = 5, exp_bits[16];
  char *exp_paths[16];
  for (int i = 2; i + 1 < argc; i += 2) {
    if (!strcmp(argv[i], "--host")) host = argv[i + 1];
    else if (!strcmp(argv[i], "--port")) port = atoi(argv[i + 1]);
    else if (!strcmp(argv[i], "--collection")) collection = argv[i + 1];
    else if (!strcmp(argv[i], "--queries")) queries = argv[i + 1];
    else if (!strcmp(argv[i], "--k")) k = (uint32_t)strtoul(argv[i + 1], NULL, 10);
    else if (!strcmp(argv[i], "--expected") && n_expected < 16 && strchr(argv[i + 1], '=')) {
      exp_bits[n_expected] = (uint32_t)strtoul(argv[i + 1], NULL, 10);
      exp_paths[n_expected++] = strchr(argv[i + 1], '=') + 1;
    } else {
      fprintf(stderr, "bad argument %s\n", argv[i]);
      return 2;
    }
  }
  if (!collection || !queries || port <= 0 || n_expected == 0) {
    fprintf(stderr, "run needs --port, --collection, --queries and --expected\n");
    return 2;
  }
  if (run(host, port, collection, queries, k, n_expected, exp_bits, exp_paths)) n_failed++;
  printf("%d passed, %d failed\n", n_passed, n_failed);
  return n_failed ? 1 : 0;
}
