/*
 * test_streams: tests of the C client's streaming RPCs and concurrent calls against a real server
 * (driven by tests/run.sh after test_client, on the same server and trained collection).
 *
 *   test_streams --host H --port P --collection C --items FILE --queries FILE
 *
 * C is the trained collection made by run.sh from FILE (items.jsonl: rows without "id" have the
 * numeric id = row index). The test exports C's model (callback and FILE*), imports it into new
 * collections (buffer and FILE*), upserts the same items into the copy by UpsertItemsStream and
 * compares searches of the copy with C's; uploads training data by stream (class ids and CSR
 * labels), trains the copy and watches the job to its end; then the error paths: missing
 * collections, bad batches, a deadline in the middle of a stream, cancels from a callback and from
 * the caller. Also dpq_unary_call_many with a few dozen calls, including failing ones.
 * Prints one line per check and finally "N passed, M failed".
 */
#define _POSIX_C_SOURCE 200809L
#define _DEFAULT_SOURCE

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "dpq/v1/search.pb-c.h"
#include "dpq/v1/server.pb-c.h"
#include "dpq_client.h"

#include "check.h"
#include "testdata.h"

static int contains(const char *hay, const char *needle) { return strstr(hay, needle) != NULL; }

static void sleep_ms(int ms) {
  struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
}

#include "stream_support.h"
#include "stream_training.h"

/* ------------------------------------------------------------------------------------------ */
/* Model export and import, upsert stream                                                      */

static void test_models_and_upserts(dpq_client *c, const char *coll, const items *it, const float *queries,
                                    size_t nq) {
  dpq_error err;
  dpq_model_header hdr, fhdr;
  membuf mb = {0};
  int rc = dpq_export_model(c, coll, 4096, write_mem, &mb, &hdr, &err);
  check(rc == DPQ_OK && mb.len == hdr.total_bytes && mb.chunks > 1 && !strcmp(hdr.format, "safetensors") &&
            strlen(hdr.sha256) == 64 && hdr.blocks == 3 && hdr.codebook_size == 16 && hdr.max_bits == 12 &&
            hdr.input_dimension == it->dim,
        "ExportModel to a callback: %zu bytes in %d chunks of <= 4096 (header: %llu bytes, %s, sha256 %.12s..., M %u "
        "K %u) (rc %d %s)",
        mb.len, mb.chunks, (unsigned long long)hdr.total_bytes, hdr.format, hdr.sha256, hdr.blocks,
        hdr.codebook_size, rc, err.message);

  FILE *f = tmpfile();
  rc = dpq_export_model_file(c, coll, f, &fhdr, &err);
  long flen = f ? ftell(f) : -1;
  uint8_t *fdata = flen > 0 ? malloc((size_t)flen) : NULL;
  int same = 0;
  if (fdata && (size_t)flen == mb.len) {
    rewind(f);
    same = fread(fdata, 1, (size_t)flen, f) == (size_t)flen && !memcmp(fdata, mb.data, mb.len);
  }
  check(rc == DPQ_OK && same && !strcmp(fhdr.sha256, hdr.sha256),
        "ExportModel to a FILE*: %ld bytes, identical to the callback export (rc %d %s)", flen, rc, err.message);
  free(fdata);

  membuf none = {0};
  rc = dpq_export_model(c, "no-such-collection", 0, write_mem, &none, NULL, &err);
  check(rc == DPQ_NOT_FOUND && contains(err.message, "no-such-collection"),
        "ExportModel of a missing collection -> NOT_FOUND (rc %d: %s)", rc, err.message);
  membuf stop = {.fail_after = 2};
  rc = dpq_export_model(c, coll, 1024, write_mem, &stop, NULL, &err);
  check(rc == DPQ_CANCELLED && stop.chunks == 2, "ExportModel: the write callback stops it -> CANCELLED after %d chunks (%s)",
        stop.chunks, err.message);
  free(stop.data);
  int serving = 0;
  rc = dpq_health(c, "", &serving, &err);
  check(rc == DPQ_OK && serving == DPQ_HEALTH_SERVING, "the connection serves calls after a cancelled stream (rc %d)", rc);

  /* Import into new collections, from the buffer (small chunks) and from the file. */
  dpq_import_options io = {.create_if_missing = 1, .keep_vectors = 1, .total_bytes = hdr.total_bytes,
                           .sha256 = hdr.sha256, .chunk_bytes = 8192};
  dpq_import_result ir;
  rc = dpq_import_model_buffer(c, "c-copy", mb.data, mb.len, &io, &ir, &err);
  check(rc == DPQ_OK && ir.created && ir.bytes_received == mb.len && !strcmp(ir.sha256, hdr.sha256) && ir.max_bits == 12,
        "ImportModel from a buffer in 8 KiB chunks creates c-copy: %llu bytes, sha256 equal (rc %d %s)",
        (unsigned long long)ir.bytes_received, rc, err.message);
  if (f) rewind(f);
  dpq_import_options io2 = {.create_if_missing = 1};
  rc = dpq_import_model_file(c, "c-copy2", f, &io2, &ir, &err);
  check(rc == DPQ_OK && ir.created && ir.bytes_received == mb.len && !strcmp(ir.sha256, hdr.sha256),
        "ImportModel from a FILE* creates c-copy2 (rc %d %s)", rc, err.message);
  if (f) fclose(f);
  uint8_t junk[3000];
  memset(junk, 'x', sizeof junk);
  rc = dpq_import_model_buffer(c, "c-bad", junk, sizeof junk, &io2, &ir, &err);
  check(rc == DPQ_INVALID_ARGUMENT && err.message[0], "ImportModel of a non-model file -> INVALID_ARGUMENT (%s)", err.message);
  rc = dpq_import_model_buffer(c, "no-such-collection", mb.data, mb.len, NULL, &ir, &err);
  check(rc == DPQ_NOT_FOUND, "ImportModel into a missing collection without create_if_missing -> NOT_FOUND (%s)",
        err.message);
  dpq_import_options bad_sha = {.sha256 = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"};
  rc = dpq_import_model_buffer(c, "c-copy2", mb.data, mb.len, &bad_sha, &ir, &err);
  check(rc == DPQ_INVALID_ARGUMENT && contains(err.message, "sha256"),
        "ImportModel with a wrong sha256 -> INVALID_ARGUMENT naming sha256 (%s)", err.message);
  free(mb.data);

  /* The same items into the copy by stream: searches must equal the original collection's. */
  dpq_upsert_result ur;
  rc = upsert_all(c, "c-copy", it, 10, &ur, &err);
  check(rc == DPQ_OK && ur.inserted == it->n && ur.replaced == 0 && ur.encoded == it->n && ur.item_count == it->n,
        "UpsertItemsStream of %zu items in batches of 10: inserted %llu, encoded %llu, item_count %llu (rc %d %s)",
        it->n, (unsigned long long)ur.inserted, (unsigned long long)ur.encoded, (unsigned long long)ur.item_count, rc,
        err.message);
  for (uint32_t bits = 8; bits <= 12; bits += 4) {
    dpq_search_result a, b;
    int ra = dpq_search(c, coll, queries, nq, it->dim, 5, bits, &a, &err);
    int rb = dpq_search(c, "c-copy", queries, nq, it->dim, 5, bits, &b, &err);
    size_t hits = 0;
    int same = ra == DPQ_OK && rb == DPQ_OK && same_results(&a, &b, &hits);
    check(same,
          "bits %u: Search of the imported copy with streamed items equals the original (%zu hits) (rc %d/%d %s)", bits,
          hits, ra, rb, err.message);
    dpq_search_result_free(&a);
    dpq_search_result_free(&b);
  }
  dpq_search_result all;
  rc = dpq_search(c, "c-copy", queries, 1, it->dim, (uint32_t)it->n, 0, &all, &err);
  size_t found = 0;
  for (size_t i = 0; rc == DPQ_OK && i < it->n; i++)
    for (size_t h = 0; h < all.queries[0].n_hits; h++)
      if (same_id(&all.queries[0].hits[h].id, &it->v[i].id)) {
        found++;
        break;
      }
  check(rc == DPQ_OK && found == it->n, "Search with k = %zu finds every streamed item: %zu (rc %d %s)", it->n, found, rc,
        err.message);
  dpq_search_result_free(&all);
  rc = upsert_all(c, "c-copy", it, 64, &ur, &err);
  check(rc == DPQ_OK && ur.inserted == 0 && ur.replaced == it->n && ur.item_count == it->n,
        "UpsertItemsStream again: %llu replaced, none inserted (rc %d %s)", (unsigned long long)ur.replaced, rc,
        err.message);

  /* Errors. */
  rc = upsert_all(c, "no-such-collection", it, 10, &ur, &err);
  check(rc == DPQ_NOT_FOUND && contains(err.message, "no-such-collection"),
        "UpsertItemsStream to a missing collection -> NOT_FOUND (%s)", err.message);
  dpq_stream *s;
  rc = dpq_upsert_stream_open(c, "c-copy", &s, &err);
  int r1 = rc ? rc : dpq_upsert_stream_send(s, it->v, 5, it->dim, &err);
  int r2 = r1 ? r1 : dpq_upsert_stream_send(s, it->v + 5, 5, 8, &err); /* 16-d vectors sent as 8-d */
  sleep_ms(300); /* the server's answer to the bad batch arrives meanwhile */
  int r3 = rc ? rc : dpq_upsert_stream_send(s, it->v + 10, 5, it->dim, &err);
  char send_msg[512];
  snprintf(send_msg, sizeof send_msg, "%s", err.message);
  int rf = rc ? rc : dpq_upsert_stream_finish(s, &ur, &err);
  check(r1 == DPQ_OK && rf == DPQ_INVALID_ARGUMENT && (r2 == DPQ_OK || r2 == rf) && r3 == rf &&
            contains(err.message, "items[0].vector") && contains(err.message, "dimension"),
        "UpsertItemsStream with a bad second batch -> INVALID_ARGUMENT with the server's message (sends %s %s %s, finish "
        "%s: %s)",
        dpq_status_name(r1), dpq_status_name(r2), dpq_status_name(r3), dpq_status_name(rf), err.message);
  check(r3 == rf && !strcmp(send_msg, err.message),
        "the server's early end of a stream is returned by the next send and repeated by the finish");
  rc = dpq_stream_open(c, "/dpq.v1.ItemService/UpsertItemsStream", &s, &err);
  uint8_t *raw = NULL;
  size_t raw_len = 0;
  rc = rc ? rc : dpq_stream_finish(s, &raw, &raw_len, &err);
  check(rc == DPQ_INVALID_ARGUMENT, "generic dpq_stream: an UpsertItemsStream without any batch -> INVALID_ARGUMENT (%s)",
        err.message);
  free(raw);

  /* Cancel by the caller, then a deadline in the middle of a stream. */
  rc = dpq_upsert_stream_open(c, "c-copy", &s, &err);
  if (rc == DPQ_OK) rc = dpq_upsert_stream_send(s, it->v, 5, it->dim, &err);
  dpq_stream_cancel(s);
  int hr = dpq_health(c, "", &serving, &err);
  check(rc == DPQ_OK && hr == DPQ_OK, "dpq_stream_cancel mid-stream, then the client goes on (rc %d, health %d)", rc, hr);
  dpq_set_timeout(c, 300);
  int64_t t0 = now_ms();
  rc = dpq_upsert_stream_open(c, "c-copy", &s, &err);
  r1 = rc ? rc : dpq_upsert_stream_send(s, it->v, 5, it->dim, &err);
  sleep_ms(450);
  r2 = rc ? rc : dpq_upsert_stream_send(s, it->v + 5, 5, it->dim, &err);
  rf = rc ? rc : dpq_upsert_stream_finish(s, &ur, &err);
  int64_t took = now_ms() - t0;
  check(rc == DPQ_OK && r1 == DPQ_OK && r2 == DPQ_DEADLINE_EXCEEDED && rf == DPQ_DEADLINE_EXCEEDED && took < 2000,
        "300 ms deadline passing mid-stream: send %s, finish %s after %lld ms (%s)", dpq_status_name(r2),
        dpq_status_name(rf), (long long)took, err.message);
  dpq_set_timeout(c, 20000);
  hr = dpq_health(c, "", &serving, &err);
  check(hr == DPQ_OK, "the client recovers after a stream deadline (rc %d %s)", hr, err.message);
}

/* ------------------------------------------------------------------------------------------ */
/* Codes computed elsewhere: dpq_encode on the original, the codes streamed into c-copy2           */

static void test_code_import(dpq_client *c, const char *coll, const items *it, const float *queries, size_t nq) {
  dpq_error err;
  float *vectors = malloc(it->n * it->dim * sizeof *vectors);
  dpq_item *coded = calloc(it->n, sizeof *coded);
  if (!vectors || !coded) {
    check(0, "out of memory");
    free(vectors);
    free(coded);
    return;
  }
  for (size_t i = 0; i < it->n; i++) memcpy(vectors + i * it->dim, it->v[i].vector, it->dim * sizeof *vectors);
  dpq_encode_result enc;
  int rc = dpq_encode(c, coll, vectors, it->n, it->dim, 0, &enc, &err);
  check(rc == DPQ_OK && enc.n_codes == it->n && strlen(enc.model_sha256) == 64,
        "Encode of %zu items reports its model: sha256 %.12s... (rc %d %s)", it->n, enc.model_sha256, rc, err.message);
  for (size_t i = 0; rc == DPQ_OK && i < it->n; i++) {
    coded[i] = it->v[i];
    coded[i].vector = NULL;
    coded[i].code = enc.codes + i * enc.code_bytes;
    coded[i].code_len = enc.code_bytes;
  }
  dpq_stream *s = NULL;
  dpq_upsert_result ur;
  int r1 = rc ? rc : dpq_upsert_codes_stream_open(c, "c-copy2", enc.model_sha256, &s, &err);
  for (size_t at = 0; r1 == DPQ_OK && at < it->n; at += 16)
    r1 = dpq_upsert_stream_send(s, coded + at, it->n - at < 16 ? it->n - at : 16, it->dim, &err);
  int rf = s ? dpq_upsert_stream_finish(s, &ur, &err) : r1;
  check(r1 == DPQ_OK && rf == DPQ_OK && ur.inserted == it->n && ur.item_count == it->n,
        "UpsertItemsStream of %zu codes (no vectors) into c-copy2: inserted %llu (rc %d/%d %s)", it->n,
        (unsigned long long)ur.inserted, r1, rf, err.message);
  dpq_search_result a, b;
  int ra = dpq_search(c, coll, queries, nq, it->dim, 5, 0, &a, &err);
  int rb = dpq_search(c, "c-copy2", queries, nq, it->dim, 5, 0, &b, &err);
  size_t hits = 0;
  int same = ra == DPQ_OK && rb == DPQ_OK && same_results(&a, &b, &hits); /* before check() reads hits */
  check(same,
        "Search of the items imported as codes equals the original collection's (%zu hits) (rc %d/%d %s)", hits, ra, rb,
        err.message);
  if (ra == DPQ_OK) dpq_search_result_free(&a);
  if (rb == DPQ_OK) dpq_search_result_free(&b);

  /* The same codes again, as columns (one batch per id kind, labels with per-item counts): every item
   * replaced, and the searches unchanged. */
  uint64_t *nums = calloc(it->n, sizeof *nums);
  const char **strs = calloc(it->n, sizeof *strs);
  uint8_t *ncodes = malloc(it->n * enc.code_bytes), *scodes = malloc(it->n * enc.code_bytes);
  uint32_t *nlab = malloc(it->n * 8 * sizeof *nlab + 1), *slab = malloc(it->n * 8 * sizeof *slab + 1);
  uint32_t *ncount = calloc(it->n, sizeof *ncount), *scount = calloc(it->n, sizeof *scount);
  dpq_item_columns nk = {0}, sk = {0};
  nk.numeric_ids = nums;
  nk.codes = ncodes;
  sk.string_ids = strs;
  sk.codes = scodes;
  nk.code_len = sk.code_len = enc.code_bytes;
  nk.labels = nlab;
  sk.labels = slab;
  nk.label_counts = ncount;
  sk.label_counts = scount;
  for (size_t i = 0; rc == DPQ_OK && nums && strs && ncodes && scodes && nlab && slab && ncount && scount && i < it->n; i++) {
    dpq_item_columns *k = it->v[i].id.is_str ? &sk : &nk;
    uint8_t *codes = (uint8_t *)k->codes;
    uint32_t *labels = (uint32_t *)k->labels, *counts = (uint32_t *)k->label_counts;
    if (it->v[i].id.is_str) strs[k->n] = it->v[i].id.str; else nums[k->n] = it->v[i].id.num;
    memcpy(codes + k->n * enc.code_bytes, enc.codes + i * enc.code_bytes, enc.code_bytes);
    for (size_t l = 0; l < it->v[i].n_labels && l < 8; l++) labels[k->n_labels++] = it->v[i].labels[l];
    counts[k->n++] = (uint32_t)(it->v[i].n_labels < 8 ? it->v[i].n_labels : 8);
  }
  r1 = rc ? rc : dpq_upsert_codes_stream_open(c, "c-copy2", enc.model_sha256, &s, &err);
  if (r1 == DPQ_OK && nk.n) r1 = dpq_upsert_stream_send_columns(s, &nk, &err);
  if (r1 == DPQ_OK && sk.n) r1 = dpq_upsert_stream_send_columns(s, &sk, &err);
  rf = s && r1 == DPQ_OK ? dpq_upsert_stream_finish(s, &ur, &err) : r1;
  check(r1 == DPQ_OK && rf == DPQ_OK && ur.replaced == it->n && ur.inserted == 0 && ur.item_count == it->n,
        "UpsertItemsStream of the same codes as columns (%zu numeric ids, %zu string ids): replaced %llu (rc %d/%d %s)",
        nk.n, sk.n, (unsigned long long)ur.replaced, r1, rf, err.message);
  rb = dpq_search(c, "c-copy2", queries, nq, it->dim, 5, 0, &b, &err);
  ra = dpq_search(c, coll, queries, nq, it->dim, 5, 0, &a, &err);
  same = ra == DPQ_OK && rb == DPQ_OK && same_results(&a, &b, &hits);
  check(same, "Search after the columns upsert still equals the original collection's (%zu hits)", hits);
  if (ra == DPQ_OK) dpq_search_result_free(&a);
  if (rb == DPQ_OK) dpq_search_result_free(&b);
  /* A bad columns batch: label counts that do not add up -> INVALID_ARGUMENT naming the column. */
  dpq_item_columns bad = nk;
  bad.n_labels = nk.n_labels ? nk.n_labels - 1 : 0;
  bad.labels = nk.n_labels ? nk.labels : NULL;
  if (!nk.n_labels && nk.n) ncount[0] = 1; /* no labels at all: claim one */
  r1 = dpq_upsert_codes_stream_open(c, "c-copy2", enc.model_sha256, &s, &err);
  if (r1 == DPQ_OK) r1 = dpq_upsert_stream_send_columns(s, &bad, &err);
  rf = r1 == DPQ_OK ? dpq_upsert_stream_finish(s, &ur, &err) : r1;
  check(rf == DPQ_INVALID_ARGUMENT && contains(err.message, "columns.label_counts add up to"),
        "columns whose label_counts do not add up -> INVALID_ARGUMENT naming columns.label_counts (%s: %s)",
        dpq_status_name(rf), err.message);
  free(nums);
  free(strs);
  free(ncodes);
  free(scodes);
  free(nlab);
  free(slab);
  free(ncount);
  free(scount);

  /* Refusals: another model, a keep_vectors collection, a short code, a code in a vector stream. */
  const char *other = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
  r1 = dpq_upsert_codes_stream_open(c, "c-copy2", other, &s, &err);
  if (r1 == DPQ_OK) r1 = dpq_upsert_stream_send(s, coded, 4, it->dim, &err);
  rf = r1 == DPQ_OK ? dpq_upsert_stream_finish(s, &ur, &err) : r1;
  check(rf == DPQ_FAILED_PRECONDITION && contains(err.message, "model"),
        "codes of another model -> FAILED_PRECONDITION (%s: %s)", dpq_status_name(rf), err.message);
  r1 = dpq_upsert_codes_stream_open(c, "c-copy", enc.model_sha256, &s, &err);
  if (r1 == DPQ_OK) r1 = dpq_upsert_stream_send(s, coded, 4, it->dim, &err);
  rf = r1 == DPQ_OK ? dpq_upsert_stream_finish(s, &ur, &err) : r1;
  check(rf == DPQ_FAILED_PRECONDITION && contains(err.message, "vectors"),
        "codes into a collection that keeps vectors -> FAILED_PRECONDITION (%s: %s)", dpq_status_name(rf), err.message);
  dpq_item shorter = coded[0];
  shorter.code_len = enc.code_bytes - 1;
  r1 = dpq_upsert_codes_stream_open(c, "c-copy2", enc.model_sha256, &s, &err);
  if (r1 == DPQ_OK) r1 = dpq_upsert_stream_send(s, &shorter, 1, it->dim, &err);
  rf = r1 == DPQ_OK ? dpq_upsert_stream_finish(s, &ur, &err) : r1;
  check(rf == DPQ_INVALID_ARGUMENT && contains(err.message, "items[0].code"),
        "a code one byte short -> INVALID_ARGUMENT naming items[0].code (%s: %s)", dpq_status_name(rf), err.message);
  r1 = dpq_upsert_stream_open(c, "c-copy2", &s, &err);
  int rs = r1 ? r1 : dpq_upsert_stream_send(s, coded, 1, it->dim, &err);
  if (s) dpq_stream_cancel(s);
  check(rs == DPQ_INVALID_ARGUMENT && contains(err.message, "dpq_upsert_codes_stream_open"),
        "a code in a stream opened for vectors is refused by the client (%s)", err.message);
  dpq_encode_result_free(&enc);
  free(vectors);
  free(coded);
}

/* ------------------------------------------------------------------------------------------ */
/* A few dozen concurrent unary calls                                                           */

static void test_batch(dpq_client *c, const char *coll, const float *queries, size_t nq, size_t dim) {
  enum { N = 48 };
  Dpq__V1__DenseVectors qv = DPQ__V1__DENSE_VECTORS__INIT;
  qv.dimension = (uint32_t)dim;
  qv.n_values = nq * dim;
  qv.values = (float *)queries;
  Dpq__V1__SearchRequest sr = DPQ__V1__SEARCH_REQUEST__INIT;
  sr.collection = (char *)coll;
  sr.queries = &qv;
  sr.k = 3;
  sr.bits = 8;
  size_t slen = dpq__v1__search_request__get_packed_size(&sr);
  uint8_t *sbuf = malloc(slen);
  dpq__v1__search_request__pack(&sr, sbuf);
  sr.collection = "no-such-collection";
  size_t blen = dpq__v1__search_request__get_packed_size(&sr);
  uint8_t *bbuf = malloc(blen);
  dpq__v1__search_request__pack(&sr, bbuf);

  dpq_batch_call calls[N];
  memset(calls, 0, sizeof calls);
  for (int i = 0; i < N; i++) {
    if (i % 3 == 0) {
      calls[i].path = "/dpq.v1.ServerInfoService/GetServerInfo";
    } else {
      calls[i].path = "/dpq.v1.SearchService/Search";
      calls[i].request = i == 7 ? bbuf : sbuf;
      calls[i].request_len = i == 7 ? blen : slen;
    }
  }
  dpq_error err;
  int64_t t0 = now_ms();
  int rc = dpq_unary_call_many(c, calls, N, &err);
  int64_t took = now_ms() - t0;
  int ok = 0, parsed = 0;
  for (int i = 0; i < N; i++) {
    if (calls[i].status != DPQ_OK) continue;
    ok++;
    if (i % 3 == 0) {
      Dpq__V1__GetServerInfoResponse *r =
          dpq__v1__get_server_info_response__unpack(NULL, calls[i].response_len, calls[i].response);
      parsed += r && !strcmp(r->api_version, "dpq.v1");
      if (r) dpq__v1__get_server_info_response__free_unpacked(r, NULL);
    } else {
      Dpq__V1__SearchResponse *r = dpq__v1__search_response__unpack(NULL, calls[i].response_len, calls[i].response);
      parsed += r && r->n_results == nq && r->results[0]->n_hits == 3;
      if (r) dpq__v1__search_response__free_unpacked(r, NULL);
    }
  }
  check(rc == DPQ_NOT_FOUND && err.code == DPQ_NOT_FOUND && calls[7].status == DPQ_NOT_FOUND &&
            contains(calls[7].error.message, "no-such-collection") && ok == N - 1 && parsed == N - 1,
        "dpq_unary_call_many: %d calls in %lld ms, %d OK with parsable responses, the bad one NOT_FOUND (rc %d: %s)", N,
        (long long)took, parsed, rc, err.message);
  dpq_batch_call_free(calls, N);
  free(sbuf);
  free(bbuf);
}

int main(int argc, char **argv) {
  const char *host = "127.0.0.1", *coll = NULL, *items_path = NULL, *queries_path = NULL;
  int port = 0;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!strcmp(argv[i], "--host")) host = argv[i + 1];
    else if (!strcmp(argv[i], "--port")) port = atoi(argv[i + 1]);
    else if (!strcmp(argv[i], "--collection")) coll = argv[i + 1];
    else if (!strcmp(argv[i], "--items")) items_path = argv[i + 1];
    else if (!strcmp(argv[i], "--queries")) queries_path = argv[i + 1];
    else {
      fprintf(stderr, "bad argument %s\n", argv[i]);
      return 2;
    }
  }
  if (!coll || !items_path || !queries_path || port <= 0) {
    fprintf(stderr, "usage: %s --host H --port P --collection C --items FILE --queries FILE\n", argv[0]);
    return 2;
  }
  items it;
  size_t nq = 0, dim = 0;
  float *queries = read_queries(queries_path, &nq, &dim);
  if (!queries || read_items(items_path, &it) != 0 || dim != it.dim) {
    free(queries);
    return 2;
  }
  dpq_error err;
  dpq_client *c = dpq_connect(host, port, 20000, &err);
  if (check(c != NULL, "connect to %s:%d %s", host, port, c ? "" : err.message)) {
    test_models_and_upserts(c, coll, &it, queries, nq);
    test_code_import(c, coll, &it, queries, nq);
    test_training(c, &it);
    test_batch(c, coll, queries, nq, dim);
  }
  dpq_close(c);
  items_free(&it);
  free(queries);
  printf("%d passed, %d failed\n", n_passed, n_failed);
  return n_failed ? 1 : 0;
}
