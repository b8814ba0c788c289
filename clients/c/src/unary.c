/*
 * unary.c: unary calls (dpq_unary_call, and dpq__call_msg for the wrappers) and many unary calls at
 * once on the one connection (dpq_unary_call_many).
 */
#include "internal.h"

#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------------------------------ */
/* Unary                                                                                        */

static int unary_attempt(dpq_client *c, const char *path, const uint8_t *request, size_t request_len,
                         int64_t deadline, int may_retry, uint8_t **response, size_t *response_len,
                         dpq_error *err) {
  dpq_call k;
  dpq__call_init(&k);
  k.auto_consume = 1;
  int rc = dpq__call_start(c, &k, path, deadline, err);
  if (rc == DPQ_OK) rc = dpq__call_write(&k, request, request_len, 1, err);
  if (rc == DPQ_OK) {
    if (dpq__pump(c, dpq__call_finished_cb, &k, deadline) == DPQ_PUMP_TIMEOUT) rc = dpq__call_deadline(&k, err);
    else if ((rc = dpq__call_status(&k, may_retry, err)) == DPQ_OK)
      rc = dpq__call_take_single(&k, response, response_len, err);
  }
  dpq__call_release(&k);
  return rc;
}

int dpq_unary_call(dpq_client *c, const char *path, const uint8_t *request, size_t request_len,
                   uint8_t **response, size_t *response_len, dpq_error *err) {
  dpq__clear_err(err);
  if (!c || !path || !response || !response_len || (request_len && !request))
    return dpq__set_err(err, DPQ_INVALID_ARGUMENT, "dpq_unary_call: invalid arguments");
  *response = NULL;
  *response_len = 0;
  int64_t deadline = dpq__now_ms() + c->timeout_ms;
  int rc = unary_attempt(c, path, request, request_len, deadline, 1, response, response_len, err);
  if (rc == DPQ__RETRY) rc = unary_attempt(c, path, request, request_len, deadline, 0, response, response_len, err);
  /* Several servers: a call that may be repeated goes once to each other one (addresses.c). */
  for (int other = 1; rc == DPQ_UNAVAILABLE && other < c->n_addrs && dpq__idempotent(path) && dpq__now_ms() < deadline; other++) {
    dpq__disconnect(c, 0);
    dpq__use_address(c, (c->current + 1) % c->n_addrs);
    rc = unary_attempt(c, path, request, request_len, deadline, 1, response, response_len, err);
    if (rc == DPQ__RETRY) rc = unary_attempt(c, path, request, request_len, deadline, 0, response, response_len, err);
  }
  if (rc == DPQ_OK) dpq__clear_err(err);
  return rc;
}

int dpq__call_msg(dpq_client *c, const char *path, const ProtobufCMessage *req,
                  const ProtobufCMessageDescriptor *desc, ProtobufCMessage **out, dpq_error *err) {
  *out = NULL;
  size_t len = protobuf_c_message_get_packed_size(req);
  uint8_t *buf = malloc(len ? len : 1);
  if (!buf) return dpq__set_err(err, DPQ_INTERNAL, "out of memory");
  protobuf_c_message_pack(req, buf);
  uint8_t *resp = NULL;
  size_t resp_len = 0;
  int rc = dpq_unary_call(c, path, buf, len, &resp, &resp_len, err);
  free(buf);
  if (rc != DPQ_OK) return rc;
  static const uint8_t empty[1] = {0};
  *out = protobuf_c_message_unpack(desc, NULL, resp_len, resp ? resp : empty);
  free(resp);
  if (!*out) return dpq__set_err(err, DPQ_INTERNAL, "cannot parse the %s response of %s", desc->name, path);
  return DPQ_OK;
}

/* ------------------------------------------------------------------------------------------ */
/* Many unary calls at once                                                                     */

typedef struct batch {
  dpq_call *calls;
  size_t n, first_open; /* calls before first_open are finished */
} batch;

static int batch_done(void *arg) {
  batch *b = arg;
  while (b->first_open < b->n && dpq__call_finished(&b->calls[b->first_open])) b->first_open++;
  return b->first_open == b->n;
}

int dpq_unary_call_many(dpq_client *c, dpq_batch_call *calls, size_t n, dpq_error *err) {
  dpq__clear_err(err);
  if (!c || (n && !calls)) return dpq__set_err(err, DPQ_INVALID_ARGUMENT, "dpq_unary_call_many: invalid arguments");
  for (size_t i = 0; i < n; i++) {
    calls[i].status = -1; /* not run yet */
    calls[i].response = NULL;
    calls[i].response_len = 0;
    dpq__clear_err(&calls[i].error);
    if (!calls[i].path || (calls[i].request_len && !calls[i].request))
      return dpq__set_err(err, DPQ_INVALID_ARGUMENT, "dpq_unary_call_many: call %zu has no path or no request", i);
  }
  int64_t deadline = dpq__now_ms() + c->timeout_ms;
  dpq_call *ks = calloc(n ? n : 1, sizeof *ks);
  size_t *todo = malloc((n ? n : 1) * sizeof *todo); /* indices of calls still to (re)run */
  if (!ks || !todo) {
    free(ks);
    free(todo);
    return dpq__set_err(err, DPQ_INTERNAL, "out of memory");
  }
  size_t n_todo = n;
  for (size_t i = 0; i < n; i++) todo[i] = i;
  /* Calls refused before they reached the server (REFUSED_STREAM, GOAWAY, a stale connection) are
   * run again, at most twice. */
  for (int round = 0; n_todo && round < 3; round++) {
    int may_retry = round < 2;
    batch b = {ks, n_todo, 0};
    int start_rc = DPQ_OK; /* once a call cannot start (no connection, deadline), the rest fail alike */
    dpq_error start_err;
    for (size_t j = 0; j < n_todo; j++) {
      dpq_batch_call *bc = &calls[todo[j]];
      dpq_call *k = &ks[j];
      dpq__call_init(k);
      k->auto_consume = 1;
      if (start_rc != DPQ_OK) {
        bc->error = start_err;
        bc->status = start_rc;
      } else if ((start_rc = dpq__call_start(c, k, bc->path, deadline, &start_err)) != DPQ_OK) {
        bc->error = start_err;
        bc->status = start_rc;
      } else if ((bc->status = dpq__call_write(k, bc->request, bc->request_len, 1, &bc->error)) != DPQ_OK) {
        dpq__call_cancel(k);
      } else {
        bc->status = -1; /* running */
      }
    }
    int pr = dpq__pump(c, batch_done, &b, deadline);
    size_t n_retry = 0;
    for (size_t j = 0; j < n_todo; j++) {
      dpq_batch_call *bc = &calls[todo[j]];
      dpq_call *k = &ks[j];
      if (bc->status < 0) {
        if (!dpq__call_finished(k) && pr == DPQ_PUMP_TIMEOUT) {
          dpq__call_cancel(k);
          bc->status = dpq__set_err(&bc->error, DPQ_DEADLINE_EXCEEDED,
                                    "deadline exceeded: %s did not complete within the deadline", bc->path);
        } else {
          bc->status = dpq__call_status(k, may_retry, &bc->error);
          if (bc->status == DPQ_OK) bc->status = dpq__call_take_single(k, &bc->response, &bc->response_len, &bc->error);
          if (bc->status == DPQ__RETRY) {
            bc->status = -1;
            todo[n_retry++] = todo[j];
          }
        }
      }
      dpq__call_release(k);
    }
    if (pr == DPQ_PUMP_TIMEOUT) dpq__disconnect(c, 0); /* as for one call: the connection may be stuck */
    n_todo = n_retry;
  }
  free(ks);
  free(todo);
  int rc = DPQ_OK;
  for (size_t i = 0; i < n; i++) {
    if (calls[i].status == DPQ_OK) {
      dpq__clear_err(&calls[i].error);
    } else if (rc == DPQ_OK) {
      rc = calls[i].status;
      if (err) *err = calls[i].error;
    }
  }
  return rc;
}

void dpq_batch_call_free(dpq_batch_call *calls, size_t n) {
  for (size_t i = 0; calls && i < n; i++) {
    free(calls[i].response);
    calls[i].response = NULL;
    calls[i].response_len = 0;
  }
}
