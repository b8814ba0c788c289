/*
 * streams.c: the streaming RPCs of items and models: ItemService/UpsertItemsStream (client stream),
 * ModelService/ExportModel (server stream) and ModelService/ImportModel (client stream).
 * (TrainingService's streams are in training.c.)
 */
#include "internal.h"

#include <stdlib.h>
#include <string.h>

#include "dpq/v1/items.pb-c.h"
#include "dpq/v1/models.pb-c.h"

/* ------------------------------------------------------------------------------------------ */
/* UpsertItemsStream                                                                            */

int dpq_upsert_stream_open(dpq_client *c, const char *collection, dpq_stream **out, dpq_error *err) {
  dpq__clear_err(err);
  if (out) *out = NULL;
  if (!c || !collection || !out) return dpq__set_err(err, DPQ_INVALID_ARGUMENT, "dpq_upsert_stream_open: NULL argument");
  int rc = dpq__stream_open(c, "/dpq.v1.ItemService/UpsertItemsStream", DPQ_STREAM_UPSERT, out, err);
  if (rc != DPQ_OK) return rc;
  if (!((*out)->collection = strdup(collection))) {
    dpq_stream_cancel(*out);
    *out = NULL;
    return dpq__set_err(err, DPQ_INTERNAL, "out of memory");
  }
  return DPQ_OK;
}

int dpq_upsert_codes_stream_open(dpq_client *c, const char *collection, const char *model_sha256, dpq_stream **out,
                                 dpq_error *err) {
  dpq__clear_err(err);
  if (out) *out = NULL;
  if (!model_sha256 || !*model_sha256)
    return dpq__set_err(err, DPQ_INVALID_ARGUMENT, "dpq_upsert_codes_stream_open: model_sha256 is required");
  int rc = dpq_upsert_stream_open(c, collection, out, err);
  if (rc != DPQ_OK) return rc;
  if (!((*out)->model_sha256 = strdup(model_sha256))) {
    dpq_stream_cancel(*out);
    *out = NULL;
    return dpq__set_err(err, DPQ_INTERNAL, "out of memory");
  }
  return DPQ_OK;
}

int dpq_upsert_stream_send(dpq_stream *s, const dpq_item *items, size_t n_items, size_t dim, dpq_error *err) {
  dpq__clear_err(err);
  if (!s || s->kind != DPQ_STREAM_UPSERT)
    return dpq__set_err(err, DPQ_INVALID_ARGUMENT, "dpq_upsert_stream_send: not an upsert stream");
  if (n_items && !items) return dpq__set_err(err, DPQ_INVALID_ARGUMENT, "dpq_upsert_stream_send: items is NULL");
  for (size_t i = 0; i < n_items; i++) {
    if (items[i].code && !s->model_sha256)
      return dpq__set_err(err, DPQ_INVALID_ARGUMENT,
                          "dpq_upsert_stream_send: items[%zu] has a code: open the stream with dpq_upsert_codes_stream_open", i);
    if ((!items[i].code && dim && !items[i].vector && !items[i].pixels) || (items[i].n_labels && !items[i].labels) ||
        (items[i].id.is_str && !items[i].id.str))
      return dpq__set_err(err, DPQ_INVALID_ARGUMENT, "dpq_upsert_stream_send: items[%zu] has a NULL vector, labels or id",
                          i);
  }
  /* One allocation for the message structs; the values point into the caller's arrays. */
  size_t n = n_items ? n_items : 1;
  Dpq__V1__Item *it = calloc(n, sizeof *it);
  Dpq__V1__Item **ptrs = calloc(n, sizeof *ptrs);
  Dpq__V1__ItemId *ids = calloc(n, sizeof *ids);
  Dpq__V1__Vector *vecs = calloc(n, sizeof *vecs);
  int rc;
  if (!it || !ptrs || !ids || !vecs) {
    rc = dpq__set_err(err, DPQ_INTERNAL, "out of memory");
  } else {
    for (size_t i = 0; i < n_items; i++) {
      const dpq_item *src = &items[i];
      dpq__v1__item__init(&it[i]);
      dpq__v1__item_id__init(&ids[i]);
      dpq__v1__vector__init(&vecs[i]);
      if (src->id.is_str) {
        ids[i].kind_case = DPQ__V1__ITEM_ID__KIND_STR;
        ids[i].str = src->id.str;
      } else {
        ids[i].kind_case = DPQ__V1__ITEM_ID__KIND_NUM;
        ids[i].num = src->id.num;
      }
      it[i].id = &ids[i];
      if (src->code) {
        it[i].code.len = src->code_len;
        it[i].code.data = (uint8_t *)src->code;
      } else {
        if (src->pixels) {
          vecs[i].uint8_values.len = dim;
          vecs[i].uint8_values.data = (uint8_t *)src->pixels;
        } else {
          vecs[i].n_values = dim;
          vecs[i].values = (float *)src->vector;
        }
        it[i].vector = &vecs[i];
      }
      it[i].n_labels = src->n_labels;
      it[i].labels = (uint32_t *)src->labels;
      ptrs[i] = &it[i];
    }
    Dpq__V1__UpsertItemsRequest req = DPQ__V1__UPSERT_ITEMS_REQUEST__INIT;
    if (s->messages == 0) req.collection = s->collection; /* later batches may leave it empty */
    if (s->model_sha256) req.model_sha256 = s->model_sha256;
    req.n_items = n_items;
    req.items = ptrs;
    rc = dpq__stream_send(s, &req.base, NULL, 0, err);
  }
  free(it);
  free(ptrs);
  free(ids);
  free(vecs);
  return rc;
}

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "dpq_upsert_stream_send_columns sends floats as they are in memory: little-endian hosts only"
#endif

int dpq_upsert_stream_send_columns(dpq_stream *s, const dpq_item_columns *k, dpq_error *err) {
  dpq__clear_err(err);
  if (!s || s->kind != DPQ_STREAM_UPSERT)
    return dpq__set_err(err, DPQ_INVALID_ARGUMENT, "dpq_upsert_stream_send_columns: not an upsert stream");
  if (!k) return dpq__set_err(err, DPQ_INVALID_ARGUMENT, "dpq_upsert_stream_send_columns: columns is NULL");
  if (k->codes && !s->model_sha256)
    return dpq__set_err(err, DPQ_INVALID_ARGUMENT,
                        "dpq_upsert_stream_send_columns: codes: open the stream with dpq_upsert_codes_stream_open");
  if (k->n && !k->numeric_ids && !k->string_ids)
    return dpq__set_err(err, DPQ_INVALID_ARGUMENT, "dpq_upsert_stream_send_columns: no numeric_ids or string_ids");
  if (k->n_labels && !k->labels)
    return dpq__set_err(err, DPQ_INVALID_ARGUMENT, "dpq_upsert_stream_send_columns: labels is NULL");
  if (k->string_ids && !k->numeric_ids)
    for (size_t i = 0; i < k->n; i++)
      if (!k->string_ids[i])
        return dpq__set_err(err, DPQ_INVALID_ARGUMENT, "dpq_upsert_stream_send_columns: string_ids[%zu] is NULL", i);
  /* The values point into the caller's arrays; the server checks lengths and values. */
  Dpq__V1__ItemColumns cols = DPQ__V1__ITEM_COLUMNS__INIT;
  if (k->numeric_ids) {
    cols.n_numeric_ids = k->n;
    cols.numeric_ids = (uint64_t *)k->numeric_ids;
  } else {
    cols.n_string_ids = k->n;
    cols.string_ids = (char **)k->string_ids;
  }
  if (k->vectors) {
    cols.float32_vectors.len = k->n * k->dim * sizeof(float);
    cols.float32_vectors.data = (uint8_t *)k->vectors;
  }
  if (k->pixels) {
    cols.uint8_vectors.len = k->n * k->dim;
    cols.uint8_vectors.data = (uint8_t *)k->pixels;
  }
  if (k->codes) {
    cols.codes.len = k->n * k->code_len;
    cols.codes.data = (uint8_t *)k->codes;
  }
  cols.n_labels = k->n_labels;
  cols.labels = (uint32_t *)k->labels;
  if (k->label_counts) {
    cols.n_label_counts = k->n;
    cols.label_counts = (uint32_t *)k->label_counts;
  }
  Dpq__V1__UpsertItemsRequest req = DPQ__V1__UPSERT_ITEMS_REQUEST__INIT;
  if (s->messages == 0) req.collection = s->collection;
  if (s->model_sha256) req.model_sha256 = s->model_sha256;
  req.columns = &cols;
  return dpq__stream_send(s, &req.base, NULL, 0, err);
}

int dpq_upsert_stream_finish(dpq_stream *s, dpq_upsert_result *out, dpq_error *err) {
  dpq__clear_err(err);
  if (out) memset(out, 0, sizeof *out);
  if (!s || s->kind != DPQ_STREAM_UPSERT)
    return dpq__set_err(err, DPQ_INVALID_ARGUMENT, "dpq_upsert_stream_finish: not an upsert stream");
  ProtobufCMessage *m = NULL;
  int rc = dpq__stream_finish(s, &dpq__v1__upsert_items_response__descriptor, &m, NULL, NULL, err);
  if (rc != DPQ_OK) return rc;
  Dpq__V1__UpsertItemsResponse *r = (Dpq__V1__UpsertItemsResponse *)m;
  if (out) {
    out->inserted = r->inserted;
    out->replaced = r->replaced;
    out->encoded = r->encoded;
    out->item_count = r->item_count;
  }
  protobuf_c_message_free_unpacked(m, NULL);
  return DPQ_OK;
}

/* ------------------------------------------------------------------------------------------ */
/* ExportModel                                                                                  */

typedef struct export_state {
  dpq_write_fn write;
  void *user;
  dpq_model_header *header;
  int have_header;
  uint64_t total, received;
} export_state;

static int export_deliver(void *arg, const uint8_t *msg, size_t len, dpq_error *err) {
  export_state *x = arg;
  Dpq__V1__ExportModelResponse *r = dpq__v1__export_model_response__unpack(NULL, len, msg);
  if (!r) return dpq__set_err(err, DPQ_INTERNAL, "cannot parse an ExportModelResponse");
  int rc = DPQ_OK;
  if (r->header && !x->have_header) {
    x->have_header = 1;
    x->total = r->header->total_bytes;
    if (x->header) {
      dpq__copy_str(x->header->format, sizeof x->header->format, r->header->format);
      dpq__copy_str(x->header->sha256, sizeof x->header->sha256, r->header->sha256);
      x->header->total_bytes = r->header->total_bytes;
      const Dpq__V1__ModelSummary *sm = r->header->summary;
      if (sm) {
        x->header->input_dimension = sm->input_dimension;
        x->header->blocks = sm->blocks;
        x->header->codebook_size = sm->codebook_size;
        x->header->max_bits = sm->max_bits;
        x->header->bytes_per_code = sm->bytes_per_code;
      }
    }
  }
  if (!x->have_header)
    rc = dpq__set_err(err, DPQ_INTERNAL, "ExportModel: the first chunk has no header");
  else if (r->offset != x->received)
    rc = dpq__set_err(err, DPQ_DATA_LOSS, "ExportModel: chunk at offset %llu, expected %llu",
                      (unsigned long long)r->offset, (unsigned long long)x->received);
  else if (r->data.len > x->total - x->received)
    rc = dpq__set_err(err, DPQ_DATA_LOSS, "ExportModel: more than the announced %llu bytes",
                      (unsigned long long)x->total);
  else if (r->data.len && x->write(r->data.data, r->data.len, x->user))
    rc = dpq__set_err(err, DPQ_CANCELLED, "ExportModel cancelled by the write callback");
  else
    x->received += r->data.len;
  dpq__v1__export_model_response__free_unpacked(r, NULL);
  return rc;
}

int dpq_export_model(dpq_client *c, const char *collection, uint32_t chunk_bytes, dpq_write_fn write, void *user,
                     dpq_model_header *header, dpq_error *err) {
  dpq__clear_err(err);
  if (header) memset(header, 0, sizeof *header);
  if (!c || !collection || !write) return dpq__set_err(err, DPQ_INVALID_ARGUMENT, "dpq_export_model: NULL argument");
  Dpq__V1__ExportModelRequest req = DPQ__V1__EXPORT_MODEL_REQUEST__INIT;
  req.collection = (char *)collection;
  req.chunk_bytes = chunk_bytes;
  export_state x = {write, user, header, 0, 0, 0};
  int rc = dpq__server_stream(c, "/dpq.v1.ModelService/ExportModel", &req.base, NULL, 0, export_deliver, &x, err);
  if (rc == DPQ_OK && (!x.have_header || x.received != x.total))
    rc = dpq__set_err(err, DPQ_DATA_LOSS, "ExportModel ended after %llu of %llu bytes", (unsigned long long)x.received,
                      (unsigned long long)x.total);
  return rc;
}

static int write_file(const uint8_t *data, size_t len, void *user) {
  return fwrite(data, 1, len, (FILE *)user) != len;
}

int dpq_export_model_file(dpq_client *c, const char *collection, FILE *f, dpq_model_header *header, dpq_error *err) {
  if (!f) {
    if (header) memset(header, 0, sizeof *header);
    return dpq__set_err(err, DPQ_INVALID_ARGUMENT, "dpq_export_model_file: NULL file");
  }
  int rc = dpq_export_model(c, collection, 0, write_file, f, header, err);
  if (rc == DPQ_CANCELLED || (rc == DPQ_OK && fflush(f) != 0))
    rc = dpq__set_err(err, DPQ_INTERNAL, "dpq_export_model_file: cannot write the file");
  return rc;
}

/* ------------------------------------------------------------------------------------------ */
/* ImportModel                                                                                  */

#define DPQ_IMPORT_CHUNK (1u << 20)

int dpq_import_model(dpq_client *c, const char *collection, dpq_read_fn read, void *user,
                     const dpq_import_options *o, dpq_import_result *out, dpq_error *err) {
  dpq__clear_err(err);
  if (out) memset(out, 0, sizeof *out);
  if (!c || !collection || !read) return dpq__set_err(err, DPQ_INVALID_ARGUMENT, "dpq_import_model: NULL argument");
  size_t chunk = o && o->chunk_bytes ? o->chunk_bytes : DPQ_IMPORT_CHUNK;
  uint8_t *buf = malloc(chunk);
  if (!buf) return dpq__set_err(err, DPQ_INTERNAL, "out of memory");
  dpq_stream *s;
  int rc = dpq__stream_open(c, "/dpq.v1.ModelService/ImportModel", DPQ_STREAM_RAW, &s, err);
  if (rc != DPQ_OK) {
    free(buf);
    return rc;
  }
  /* One chunk at a time: fill buf, send it, repeat; the first chunk carries the options. */
  for (int first = 1, eof = 0; !eof; first = 0) {
    size_t n = 0;
    while (n < chunk) {
      ptrdiff_t r = read(buf + n, chunk - n, user);
      if (r < 0) {
        dpq_stream_cancel(s);
        free(buf);
        return dpq__set_err(err, DPQ_CANCELLED, "ImportModel cancelled by the read callback");
      }
      if (r == 0) {
        eof = 1;
        break;
      }
      n += (size_t)r;
    }
    if (!n && !first) break;
    Dpq__V1__ImportModelRequest req = DPQ__V1__IMPORT_MODEL_REQUEST__INIT;
    if (first) {
      req.collection = (char *)collection;
      if (o) {
        req.create_if_missing = o->create_if_missing ? 1 : 0;
        req.keep_vectors = o->keep_vectors ? 1 : 0;
        req.metric = (Dpq__V1__Metric)o->metric;
        req.total_bytes = o->total_bytes;
        req.sha256 = (char *)(o->sha256 ? o->sha256 : "");
      }
    }
    req.data.data = buf;
    req.data.len = n;
    if ((rc = dpq__stream_send(s, &req.base, NULL, 0, err)) != DPQ_OK) break;
  }
  free(buf);
  ProtobufCMessage *m = NULL;
  rc = dpq__stream_finish(s, &dpq__v1__import_model_response__descriptor, &m, NULL, NULL, err);
  if (rc != DPQ_OK) return rc;
  Dpq__V1__ImportModelResponse *r = (Dpq__V1__ImportModelResponse *)m;
  if (out) {
    out->created = r->created ? 1 : 0;
    out->bytes_received = r->bytes_received;
    out->items_encoded = r->items_encoded;
    if (r->summary) {
      dpq__copy_str(out->sha256, sizeof out->sha256, r->summary->sha256);
      out->blocks = r->summary->blocks;
      out->codebook_size = r->summary->codebook_size;
      out->max_bits = r->summary->max_bits;
    }
  }
  protobuf_c_message_free_unpacked(m, NULL);
  return DPQ_OK;
}

typedef struct mem_reader {
  const uint8_t *data;
  size_t len, off;
} mem_reader;

static ptrdiff_t read_mem(uint8_t *buf, size_t cap, void *user) {
  mem_reader *m = user;
  size_t n = m->len - m->off < cap ? m->len - m->off : cap;
  memcpy(buf, m->data + m->off, n);
  m->off += n;
  return (ptrdiff_t)n;
}

int dpq_import_model_buffer(dpq_client *c, const char *collection, const uint8_t *data, size_t len,
                            const dpq_import_options *options, dpq_import_result *out, dpq_error *err) {
  if (len && !data) {
    if (out) memset(out, 0, sizeof *out);
    return dpq__set_err(err, DPQ_INVALID_ARGUMENT, "dpq_import_model_buffer: NULL data");
  }
  mem_reader m = {data, len, 0};
  return dpq_import_model(c, collection, read_mem, &m, options, out, err);
}

static ptrdiff_t read_file(uint8_t *buf, size_t cap, void *user) {
  FILE *f = user;
  size_t n = fread(buf, 1, cap, f);
  return n == 0 && ferror(f) ? -1 : (ptrdiff_t)n;
}

int dpq_import_model_file(dpq_client *c, const char *collection, FILE *f, const dpq_import_options *options,
                          dpq_import_result *out, dpq_error *err) {
  if (!f) {
    if (out) memset(out, 0, sizeof *out);
    return dpq__set_err(err, DPQ_INVALID_ARGUMENT, "dpq_import_model_file: NULL file");
  }
  int rc = dpq_import_model(c, collection, read_file, f, options, out, err);
  if (rc == DPQ_CANCELLED && ferror(f)) rc = dpq__set_err(err, DPQ_INTERNAL, "dpq_import_model_file: cannot read the file");
  return rc;
}
