/* Shared by test_streams.c: items from items.jsonl, an in-memory export target, result
 * comparisons and a batched upsert. Static functions, included once (as check.h). */
#ifndef DPQ_TESTS_STREAM_SUPPORT_H
#define DPQ_TESTS_STREAM_SUPPORT_H

/* ------------------------------------------------------------------------------------------ */
/* Items from items.jsonl                                                                       */

typedef struct items {
  dpq_item *v;
  size_t n, dim;
  float *vectors;   /* n * dim */
  uint32_t *labels; /* one per item */
  char **names;     /* string ids (NULL for numeric ids) */
} items;

static void items_free(items *it) {
  for (size_t i = 0; i < it->n; i++) free(it->names[i]);
  free(it->names);
  free(it->v);
  free(it->vectors);
  free(it->labels);
  memset(it, 0, sizeof *it);
}

static int read_items(const char *path, items *it) {
  memset(it, 0, sizeof *it);
  FILE *f = fopen(path, "r");
  if (!f) return perror(path), -1;
  static char line[1 << 16];
  size_t cap = 0;
  int rc = 0;
  while (rc == 0 && fgets(line, sizeof line, f)) {
    const char *p = line;
    jv row;
    if (parse_value(&p, &row) != 0 || row.type != J_OBJ) {
      jv_free(&row);
      break;
    }
    const jv *vec = jv_get(&row, "vector"), *id = jv_get(&row, "id"), *lab = jv_get(&row, "labels");
    if (!vec || vec->type != J_ARR || !vec->n || (it->dim && vec->n != it->dim)) rc = -1;
    if (rc == 0 && it->n == cap) {
      cap = cap ? cap * 2 : 64;
      it->v = realloc(it->v, cap * sizeof *it->v);
      it->names = realloc(it->names, cap * sizeof *it->names);
      it->labels = realloc(it->labels, cap * sizeof *it->labels);
      it->vectors = realloc(it->vectors, cap * vec->n * sizeof *it->vectors);
      if (!it->v || !it->names || !it->labels || !it->vectors) rc = -1;
    }
    if (rc == 0) {
      it->dim = vec->n;
      for (size_t d = 0; d < it->dim; d++) it->vectors[it->n * it->dim + d] = (float)vec->items[d].num;
      it->labels[it->n] = lab && lab->type == J_ARR && lab->n ? (uint32_t)lab->items[0].num : 0;
      it->names[it->n] = id && id->type == J_STR ? strdup(id->str) : NULL;
      it->n++;
    }
    jv_free(&row);
  }
  fclose(f);
  for (size_t i = 0; rc == 0 && i < it->n; i++) { /* pointers last: the arrays grew above */
    dpq_item *x = &it->v[i];
    memset(x, 0, sizeof *x);
    if (it->names[i]) {
      x->id.is_str = 1;
      x->id.str = it->names[i];
    } else {
      x->id.num = i; /* `dpq upsert` numbers rows without an id by their index */
    }
    x->vector = it->vectors + i * it->dim;
    x->labels = &it->labels[i];
    x->n_labels = 1;
  }
  if (rc || !it->n) {
    fprintf(stderr, "%s: cannot read items\n", path);
    items_free(it);
    return -1;
  }
  return 0;
}

/* ------------------------------------------------------------------------------------------ */
/* Helpers                                                                                      */

typedef struct membuf {
  uint8_t *data;
  size_t len, cap;
  int chunks;
  int fail_after; /* > 0: the write callback asks to stop at this chunk */
} membuf;

static int write_mem(const uint8_t *data, size_t len, void *user) {
  membuf *m = user;
  m->chunks++;
  if (m->fail_after && m->chunks >= m->fail_after) return 1;
  if (m->len + len > m->cap) {
    size_t cap = m->cap ? m->cap : 4096;
    while (cap < m->len + len) cap *= 2;
    uint8_t *p = realloc(m->data, cap);
    if (!p) return 1;
    m->data = p;
    m->cap = cap;
  }
  memcpy(m->data + m->len, data, len);
  m->len += len;
  return 0;
}

static int same_id(const dpq_item_id *a, const dpq_item_id *b) {
  return a->is_str == b->is_str && (a->is_str ? !strcmp(a->str, b->str) : a->num == b->num);
}

/* Search results of two collections are identical (ids in order, scores within 1e-6). */
static int same_results(const dpq_search_result *a, const dpq_search_result *b, size_t *n_hits) {
  *n_hits = 0;
  if (a->n_queries != b->n_queries) return 0;
  for (size_t q = 0; q < a->n_queries; q++) {
    if (a->queries[q].n_hits != b->queries[q].n_hits) return 0;
    for (size_t h = 0; h < a->queries[q].n_hits; h++, (*n_hits)++) {
      const dpq_hit *x = &a->queries[q].hits[h], *y = &b->queries[q].hits[h];
      if (!same_id(&x->id, &y->id) || fabsf(x->score - y->score) > 1e-6f) return 0;
    }
  }
  return *n_hits > 0;
}

/* Upserts every item in batches of `batch` items; returns the finish status. */
static int upsert_all(dpq_client *c, const char *coll, const items *it, size_t batch, dpq_upsert_result *res,
                      dpq_error *err) {
  dpq_stream *s;
  int rc = dpq_upsert_stream_open(c, coll, &s, err);
  if (rc) return rc;
  for (size_t i = 0; i < it->n; i += batch) {
    size_t n = it->n - i < batch ? it->n - i : batch;
    if ((rc = dpq_upsert_stream_send(s, it->v + i, n, it->dim, err)) != DPQ_OK) break;
  }
  int frc = dpq_upsert_stream_finish(s, res, err); /* repeats a send's failure */
  return rc ? rc : frc;
}

#endif
