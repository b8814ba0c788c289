/*
 * rpcs.c: wrappers of the unary RPCs: health, search, encode, collections, server info, and starting
 * and cancelling training jobs (WatchTraining is in streams.c). Each packs its request with the
 * generated protobuf-c code, runs it with dpq__call_msg and copies the response into plain C structs.
 */
#include "internal.h"

#include <stdlib.h>
#include <string.h>

#include "dpq/v1/collections.pb-c.h"
#include "dpq/v1/models.pb-c.h"
#include "dpq/v1/search.pb-c.h"
#include "dpq/v1/server.pb-c.h"
#include "dpq/v1/training.pb-c.h"
#include "grpc/health/v1/health.pb-c.h"

/* ------------------------------------------------------------------------------------------ */
/* Health                                                                                       */

int dpq_health(dpq_client *c, const char *service, int *serving_status, dpq_error *err) {
  dpq__clear_err(err);
  if (serving_status) *serving_status = DPQ_HEALTH_UNKNOWN;
  Grpc__Health__V1__HealthCheckRequest req = GRPC__HEALTH__V1__HEALTH_CHECK_REQUEST__INIT;
  req.service = (char *)(service ? service : "");
  ProtobufCMessage *resp;
  int rc = dpq__call_msg(c, "/grpc.health.v1.Health/Check", &req.base,
                    &grpc__health__v1__health_check_response__descriptor, &resp, err);
  if (rc != DPQ_OK) return rc;
  if (serving_status) *serving_status = (int)((Grpc__Health__V1__HealthCheckResponse *)resp)->status;
  protobuf_c_message_free_unpacked(resp, NULL);
  return DPQ_OK;
}

/* ------------------------------------------------------------------------------------------ */
/* Search                                                                                       */

static int check_batch(const char *what, const void *v, size_t n, size_t dim, dpq_error *err) {
  if (n && !v) return dpq__set_err(err, DPQ_INVALID_ARGUMENT, "%s is NULL", what);
  if (dim > 0xffffffffu) return dpq__set_err(err, DPQ_INVALID_ARGUMENT, "%s.dimension too large", what);
  if (dim && n > (size_t)-1 / dim / sizeof(float))
    return dpq__set_err(err, DPQ_INVALID_ARGUMENT, "%s: too many values", what);
  return DPQ_OK;
}

void dpq_search_result_free(dpq_search_result *r) {
  if (!r) return;
  for (size_t q = 0; r->queries && q < r->n_queries; q++) {
    for (size_t h = 0; h < r->queries[q].n_hits; h++) {
      free(r->queries[q].hits[h].id.str);
      free(r->queries[q].hits[h].labels);
    }
    free(r->queries[q].hits);
  }
  free(r->queries);
  memset(r, 0, sizeof *r);
}

/* Search with float queries or (bytes non-NULL) 8-bit ones. */
static int search(dpq_client *c, const char *collection, const float *queries, const uint8_t *bytes, size_t n_queries,
                  size_t dim, uint32_t k, uint32_t bits, const dpq_search_options *opts, dpq_search_result *out,
                  dpq_error *err) {
  dpq__clear_err(err);
  if (out) memset(out, 0, sizeof *out);
  if (!c || !collection || !out) return dpq__set_err(err, DPQ_INVALID_ARGUMENT, "dpq_search: NULL argument");
  int rc = check_batch("queries", bytes ? (const void *)bytes : (const void *)queries, n_queries, dim, err);
  if (rc) return rc;

  Dpq__V1__DenseVectors qv = DPQ__V1__DENSE_VECTORS__INIT;
  qv.dimension = (uint32_t)dim;
  if (bytes) {
    qv.uint8_values.len = n_queries * dim;
    qv.uint8_values.data = (uint8_t *)bytes;
  } else {
    qv.n_values = n_queries * dim;
    qv.values = (float *)queries;
  }
  Dpq__V1__SearchRequest req = DPQ__V1__SEARCH_REQUEST__INIT;
  req.collection = (char *)collection;
  req.queries = &qv;
  req.k = k;
  req.bits = bits;
  Dpq__V1__LabelFilter filter = DPQ__V1__LABEL_FILTER__INIT;
  Dpq__V1__Rescore rescore = DPQ__V1__RESCORE__INIT;
  if (opts) {
    req.metric = (Dpq__V1__Metric)opts->metric;
    req.omit_labels = opts->omit_labels ? 1 : 0;
    req.nprobe = opts->nprobe;
    if (opts->n_any_label) {
      if (!opts->any_label) return dpq__set_err(err, DPQ_INVALID_ARGUMENT, "dpq_search: any_label is NULL");
      filter.n_any_of = opts->n_any_label;
      filter.any_of = (uint32_t *)opts->any_label;
      req.filter = &filter;
    }
    if (opts->rescore_oversampling) {
      rescore.oversampling = opts->rescore_oversampling;
      req.rescore = &rescore;
    }
  }
  ProtobufCMessage *m;
  rc = dpq__call_msg(c, "/dpq.v1.SearchService/Search", &req.base, &dpq__v1__search_response__descriptor, &m, err);
  if (rc != DPQ_OK) return rc;
  Dpq__V1__SearchResponse *resp = (Dpq__V1__SearchResponse *)m;

  out->bits = resp->bits;
  out->metric = (int)resp->metric;
  out->searched_items = resp->searched_items;
  out->nprobe = resp->nprobe;
  out->n_queries = resp->n_results;
  out->queries = calloc(resp->n_results ? resp->n_results : 1, sizeof *out->queries);
  if (!out->queries) goto oom;
  for (size_t q = 0; q < resp->n_results; q++) {
    Dpq__V1__QueryResult *qr = resp->results[q];
    dpq_query_result *dq = &out->queries[q];
    dq->hits = calloc(qr->n_hits ? qr->n_hits : 1, sizeof *dq->hits);
    if (!dq->hits) goto oom;
    dq->n_hits = qr->n_hits;
    for (size_t h = 0; h < qr->n_hits; h++) {
      Dpq__V1__SearchHit *sh = qr->hits[h];
      dpq_hit *dh = &dq->hits[h];
      dh->score = sh->score;
      if (sh->id && sh->id->kind_case == DPQ__V1__ITEM_ID__KIND_STR) {
        dh->id.is_str = 1;
        if (!(dh->id.str = dpq__strdup(sh->id->str))) goto oom;
      } else if (sh->id && sh->id->kind_case == DPQ__V1__ITEM_ID__KIND_NUM) {
        dh->id.num = sh->id->num;
      }
      if (sh->n_labels) {
        if (!(dh->labels = malloc(sh->n_labels * sizeof *dh->labels))) goto oom;
        memcpy(dh->labels, sh->labels, sh->n_labels * sizeof *dh->labels);
        dh->n_labels = sh->n_labels;
      }
    }
  }
  protobuf_c_message_free_unpacked(m, NULL);
  return DPQ_OK;
oom:
  protobuf_c_message_free_unpacked(m, NULL);
  dpq_search_result_free(out);
  return dpq__set_err(err, DPQ_INTERNAL, "out of memory");
}

int dpq_search_ex(dpq_client *c, const char *collection, const float *queries, size_t n_queries, size_t dim,
                  uint32_t k, uint32_t bits, const dpq_search_options *opts, dpq_search_result *out,
                  dpq_error *err) {
  return search(c, collection, queries, NULL, n_queries, dim, k, bits, opts, out, err);
}

int dpq_search_u8(dpq_client *c, const char *collection, const uint8_t *queries, size_t n_queries, size_t dim,
                  uint32_t k, uint32_t bits, const dpq_search_options *opts, dpq_search_result *out,
                  dpq_error *err) {
  return search(c, collection, NULL, queries, n_queries, dim, k, bits, opts, out, err);
}

int dpq_search(dpq_client *c, const char *collection, const float *queries, size_t n_queries, size_t dim,
               uint32_t k, uint32_t bits, dpq_search_result *out, dpq_error *err) {
  return dpq_search_ex(c, collection, queries, n_queries, dim, k, bits, NULL, out, err);
}

/* ------------------------------------------------------------------------------------------ */
/* Encode                                                                                       */

void dpq_encode_result_free(dpq_encode_result *r) {
  if (!r) return;
  free(r->codes);
  memset(r, 0, sizeof *r);
}

int dpq_encode(dpq_client *c, const char *collection, const float *vectors, size_t n_vectors, size_t dim,
               uint32_t bits, dpq_encode_result *out, dpq_error *err) {
  dpq__clear_err(err);
  if (out) memset(out, 0, sizeof *out);
  if (!c || !collection || !out) return dpq__set_err(err, DPQ_INVALID_ARGUMENT, "dpq_encode: NULL argument");
  int rc = check_batch("vectors", vectors, n_vectors, dim, err);
  if (rc) return rc;
  Dpq__V1__DenseVectors vv = DPQ__V1__DENSE_VECTORS__INIT;
  vv.dimension = (uint32_t)dim;
  vv.n_values = n_vectors * dim;
  vv.values = (float *)vectors;
  Dpq__V1__EncodeRequest req = DPQ__V1__ENCODE_REQUEST__INIT;
  req.collection = (char *)collection;
  req.vectors = &vv;
  req.bits = bits;
  ProtobufCMessage *m;
  rc = dpq__call_msg(c, "/dpq.v1.ModelService/Encode", &req.base, &dpq__v1__encode_response__descriptor, &m, err);
  if (rc != DPQ_OK) return rc;
  Dpq__V1__EncodeResponse *resp = (Dpq__V1__EncodeResponse *)m;
  size_t cb = resp->n_codes ? resp->codes[0].len : 0;
  for (size_t i = 0; i < resp->n_codes; i++) {
    if (resp->codes[i].len != cb) {
      protobuf_c_message_free_unpacked(m, NULL);
      return dpq__set_err(err, DPQ_INTERNAL, "Encode returned codes of different lengths (%zu and %zu bytes)", cb,
                     resp->codes[i].len);
    }
  }
  out->bits = resp->bits;
  out->bytes_per_code = resp->bytes_per_code;
  out->n_codes = resp->n_codes;
  out->code_bytes = cb;
  out->codes = malloc((resp->n_codes * cb) > 0 ? resp->n_codes * cb : 1);
  if (!out->codes) {
    protobuf_c_message_free_unpacked(m, NULL);
    memset(out, 0, sizeof *out);
    return dpq__set_err(err, DPQ_INTERNAL, "out of memory");
  }
  for (size_t i = 0; i < resp->n_codes; i++)
    if (cb) memcpy(out->codes + i * cb, resp->codes[i].data, cb);
  if (resp->model_sha256) snprintf(out->model_sha256, sizeof out->model_sha256, "%s", resp->model_sha256);
  protobuf_c_message_free_unpacked(m, NULL);
  return DPQ_OK;
}

/* ------------------------------------------------------------------------------------------ */
/* Collections and server info                                                                  */

void dpq_collection_info_free(dpq_collection_info *info) {
  if (!info) return;
  free(info->name);
  free(info->last_error);
  memset(info, 0, sizeof *info);
}

int dpq_get_collection(dpq_client *c, const char *name, dpq_collection_info *out, dpq_error *err) {
  dpq__clear_err(err);
  if (out) memset(out, 0, sizeof *out);
  if (!c || !name || !out) return dpq__set_err(err, DPQ_INVALID_ARGUMENT, "dpq_get_collection: NULL argument");
  Dpq__V1__GetCollectionRequest req = DPQ__V1__GET_COLLECTION_REQUEST__INIT;
  req.name = (char *)name;
  ProtobufCMessage *m;
  int rc = dpq__call_msg(c, "/dpq.v1.CollectionService/GetCollection", &req.base,
                    &dpq__v1__get_collection_response__descriptor, &m, err);
  if (rc != DPQ_OK) return rc;
  Dpq__V1__CollectionInfo *ci = ((Dpq__V1__GetCollectionResponse *)m)->collection;
  if (!ci) {
    protobuf_c_message_free_unpacked(m, NULL);
    return dpq__set_err(err, DPQ_INTERNAL, "GetCollection response without collection");
  }
  out->name = dpq__strdup(ci->name);
  out->last_error = dpq__strdup(ci->last_error);
  out->index_lists = ci->index_lists;
  out->index_lists_building = ci->index_lists_building ? 1 : 0;
  out->state = (int)ci->state;
  out->has_model = ci->has_model ? 1 : 0;
  out->item_count = ci->item_count;
  out->pending_items = ci->pending_items;
  if (ci->config) {
    out->input_dimension = ci->config->input_dimension;
    out->metric = (int)ci->config->metric;
    if (ci->config->model) out->num_classes = ci->config->model->num_classes;
  }
  if (ci->model) {
    out->quantized_dimension = ci->model->quantized_dimension;
    out->blocks = ci->model->blocks;
    out->codebook_size = ci->model->codebook_size;
    out->bits_per_block = ci->model->bits_per_block;
    out->max_bits = ci->model->max_bits;
    out->bytes_per_code = ci->model->bytes_per_code;
  }
  protobuf_c_message_free_unpacked(m, NULL);
  if (!out->name || !out->last_error) {
    dpq_collection_info_free(out);
    return dpq__set_err(err, DPQ_INTERNAL, "out of memory");
  }
  return DPQ_OK;
}

void dpq_server_info_free(dpq_server_info *info) {
  if (!info) return;
  free(info->version);
  free(info->build_commit);
  free(info->api_version);
  for (size_t i = 0; info->services && i < info->n_services; i++) free(info->services[i]);
  free(info->services);
  memset(info, 0, sizeof *info);
}

int dpq_get_server_info(dpq_client *c, dpq_server_info *out, dpq_error *err) {
  dpq__clear_err(err);
  if (out) memset(out, 0, sizeof *out);
  if (!c || !out) return dpq__set_err(err, DPQ_INVALID_ARGUMENT, "dpq_get_server_info: NULL argument");
  Dpq__V1__GetServerInfoRequest req = DPQ__V1__GET_SERVER_INFO_REQUEST__INIT;
  ProtobufCMessage *m;
  int rc = dpq__call_msg(c, "/dpq.v1.ServerInfoService/GetServerInfo", &req.base,
                    &dpq__v1__get_server_info_response__descriptor, &m, err);
  if (rc != DPQ_OK) return rc;
  Dpq__V1__GetServerInfoResponse *r = (Dpq__V1__GetServerInfoResponse *)m;
  int ok = 1;
  out->version = dpq__strdup(r->version);
  out->build_commit = dpq__strdup(r->build_commit);
  out->api_version = dpq__strdup(r->api_version);
  ok = out->version && out->build_commit && out->api_version;
  out->services = calloc(r->n_services ? r->n_services : 1, sizeof *out->services);
  if (out->services) {
    out->n_services = r->n_services;
    for (size_t i = 0; i < r->n_services; i++)
      if (!(out->services[i] = dpq__strdup(r->services[i]))) ok = 0;
  } else {
    ok = 0;
  }
  out->threads = r->threads;
  if (r->limits) {
    out->max_message_bytes = r->limits->max_message_bytes;
    out->max_batch_rows = r->limits->max_batch_rows;
    out->max_search_queries = r->limits->max_search_queries;
    out->max_k = r->limits->max_k;
    out->max_input_dimension = r->limits->max_input_dimension;
  }
  protobuf_c_message_free_unpacked(m, NULL);
  if (!ok) {
    dpq_server_info_free(out);
    return dpq__set_err(err, DPQ_INTERNAL, "out of memory");
  }
  return DPQ_OK;
}
