/*
 * generic_streams.c: server-streaming calls (dpq__server_stream, dpq_server_stream_call) and
 * client-streaming calls (dpq__stream_*, dpq_stream_*), which the typed streams of training.c and
 * streams.c use.
 */
#include "internal.h"

#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------------------------------ */
/* Server streaming                                                                             */

static int message_or_finished(void *arg) {
  dpq_call *k = arg;
  return dpq__call_finished(k) || dpq__call_has_message(k);
}

int dpq__server_stream(dpq_client *c, const char *path, const ProtobufCMessage *req, const uint8_t *raw,
                       size_t raw_len, int (*on_msg)(void *arg, const uint8_t *msg, size_t len, dpq_error *err),
                       void *arg, dpq_error *err) {
  int64_t deadline = dpq__now_ms() + c->timeout_ms;
  for (int attempt = 0;; attempt++) {
    dpq_call k;
    dpq__call_init(&k);
    int rc = dpq__call_start(c, &k, path, deadline, err);
    if (rc == DPQ_OK)
      rc = req ? dpq__call_write_msg(&k, req, 1, err) : dpq__call_write(&k, raw, raw_len, 1, err);
    int delivered = 0;
    while (rc == DPQ_OK) {
      if (dpq__pump(c, message_or_finished, &k, deadline) == DPQ_PUMP_TIMEOUT) {
        rc = dpq__call_deadline(&k, err);
        break;
      }
      const uint8_t *msg;
      size_t len;
      while (rc == DPQ_OK && (rc = dpq__call_pop(&k, &msg, &len, err)) == DPQ_OK && msg) {
        delivered++;
        if ((rc = on_msg(arg, msg, len, err)) != DPQ_OK) dpq__call_cancel(&k);
      }
      if (rc != DPQ_OK) {
        dpq__call_cancel(&k);
        break;
      }
      if (dpq__call_finished(&k)) {
        rc = dpq__call_status(&k, attempt == 0 && !delivered, err);
        if (rc == DPQ_OK && k.in_len > k.in_off)
          rc = dpq__set_err(err, DPQ_INTERNAL, "response to %s: truncated message", path);
        break;
      }
    }
    dpq__call_release(&k);
    if (rc != DPQ__RETRY) {
      if (rc == DPQ_OK) dpq__clear_err(err);
      return rc;
    }
  }
}

typedef struct raw_cb {
  dpq_message_fn fn;
  void *user;
} raw_cb;

static int raw_deliver(void *arg, const uint8_t *msg, size_t len, dpq_error *err) {
  raw_cb *r = arg;
  uint8_t *copy = malloc(len ? len : 1); /* the callback may call the client, which moves the buffer */
  if (!copy) return dpq__set_err(err, DPQ_INTERNAL, "out of memory");
  if (len) memcpy(copy, msg, len);
  int stop = r->fn(copy, len, r->user);
  free(copy);
  return stop ? dpq__set_err(err, DPQ_CANCELLED, "cancelled by the message callback") : DPQ_OK;
}

int dpq_server_stream_call(dpq_client *c, const char *path, const uint8_t *request, size_t request_len,
                           dpq_message_fn on_message, void *user, dpq_error *err) {
  dpq__clear_err(err);
  if (!c || !path || !on_message || (request_len && !request))
    return dpq__set_err(err, DPQ_INVALID_ARGUMENT, "dpq_server_stream_call: invalid arguments");
  raw_cb r = {on_message, user};
  return dpq__server_stream(c, path, NULL, request, request_len, raw_deliver, &r, err);
}

/* ------------------------------------------------------------------------------------------ */
/* Client streaming                                                                             */

int dpq__stream_open(dpq_client *c, const char *path, int kind, dpq_stream **out, dpq_error *err) {
  *out = NULL;
  dpq_stream *s = calloc(1, sizeof *s);
  if (!s || !(s->path = strdup(path))) {
    free(s);
    return dpq__set_err(err, DPQ_INTERNAL, "out of memory");
  }
  s->client = c;
  s->kind = kind;
  dpq__call_init(&s->call);
  int rc = dpq__call_start(c, &s->call, s->path, dpq__now_ms() + c->timeout_ms, err);
  if (rc != DPQ_OK) {
    dpq__call_release(&s->call);
    free(s->path);
    free(s);
    return rc;
  }
  *out = s;
  return DPQ_OK;
}

static void stream_free(dpq_stream *s) {
  dpq__call_release(&s->call);
  free(s->path);
  free(s->collection);
  free(s->dataset);
  free(s->model_sha256);
  free(s);
}

/* Records the first failure of the stream; later sends and finish repeat it. */
static int stream_fail(dpq_stream *s, int rc, dpq_error *err) {
  s->failed = rc;
  if (err) s->failure = *err;
  else dpq__set_err(&s->failure, rc, "%s failed (%s)", s->path, dpq_status_name(rc));
  return rc;
}

static int stream_repeat(const dpq_stream *s, dpq_error *err) {
  if (err) *err = s->failure;
  return s->failed;
}

static int drained_or_finished(void *arg) {
  dpq_call *k = arg;
  return dpq__call_finished(k) || k->out_len == k->out_off;
}

int dpq__stream_send(dpq_stream *s, const ProtobufCMessage *msg, const uint8_t *data, size_t len,
                     dpq_error *err) {
  if (s->failed) return stream_repeat(s, err);
  dpq_call *k = &s->call;
  if (k->out_eof) return dpq__set_err(err, DPQ_INVALID_ARGUMENT, "%s: send after finish", s->path);
  dpq_error local;
  dpq_error *e = err ? err : &local;
  if (dpq__call_finished(k)) { /* the server ended the call early: an error, or an early OK response */
    int rc = dpq__call_status(k, 0, e);
    return rc == DPQ_OK ? DPQ_OK : stream_fail(s, rc, e);
  }
  if (dpq__remaining_ms(k->deadline) <= 0) return stream_fail(s, dpq__call_deadline(k, e), e);
  int rc = msg ? dpq__call_write_msg(k, msg, 0, e) : dpq__call_write(k, data, len, 0, e);
  if (rc != DPQ_OK) {
    dpq__call_cancel(k);
    return stream_fail(s, rc, e);
  }
  s->messages++;
  /* Wait until nghttp2 has taken the message (the server's flow-control window allows it), then pick
   * up whatever the server has already answered without waiting. */
  if (dpq__pump(s->client, drained_or_finished, k, k->deadline) == DPQ_PUMP_TIMEOUT)
    return stream_fail(s, dpq__call_deadline(k, e), e);
  if (!dpq__call_finished(k)) dpq__pump(s->client, NULL, NULL, dpq__now_ms());
  if (dpq__call_finished(k)) {
    rc = dpq__call_status(k, 0, e);
    if (rc != DPQ_OK) return stream_fail(s, rc, e);
  }
  return DPQ_OK;
}

int dpq__stream_finish(dpq_stream *s, const ProtobufCMessageDescriptor *desc, ProtobufCMessage **out,
                       uint8_t **raw, size_t *raw_len, dpq_error *err) {
  if (s->failed) {
    int rc = stream_repeat(s, err);
    stream_free(s);
    return rc;
  }
  dpq_call *k = &s->call;
  dpq__call_end_input(k);
  int rc;
  if (dpq__pump(s->client, dpq__call_finished_cb, k, k->deadline) == DPQ_PUMP_TIMEOUT) {
    rc = dpq__call_deadline(k, err);
  } else if ((rc = dpq__call_status(k, 0, err)) == DPQ_OK) {
    uint8_t *resp = NULL;
    size_t resp_len = 0;
    rc = dpq__call_take_single(k, &resp, &resp_len, err);
    if (rc == DPQ_OK && desc) {
      static const uint8_t empty[1] = {0};
      *out = protobuf_c_message_unpack(desc, NULL, resp_len, resp ? resp : empty);
      if (!*out) rc = dpq__set_err(err, DPQ_INTERNAL, "cannot parse the %s response of %s", desc->name, s->path);
      free(resp);
    } else if (rc == DPQ_OK) {
      *raw = resp;
      *raw_len = resp_len;
    }
  }
  stream_free(s);
  if (rc == DPQ_OK) dpq__clear_err(err);
  return rc;
}

int dpq_stream_open(dpq_client *c, const char *path, dpq_stream **out, dpq_error *err) {
  dpq__clear_err(err);
  if (out) *out = NULL;
  if (!c || !path || !out) return dpq__set_err(err, DPQ_INVALID_ARGUMENT, "dpq_stream_open: invalid arguments");
  return dpq__stream_open(c, path, DPQ_STREAM_RAW, out, err);
}

int dpq_stream_send(dpq_stream *s, const uint8_t *message, size_t len, dpq_error *err) {
  dpq__clear_err(err);
  if (!s || (len && !message)) return dpq__set_err(err, DPQ_INVALID_ARGUMENT, "dpq_stream_send: invalid arguments");
  if (s->kind != DPQ_STREAM_RAW)
    return dpq__set_err(err, DPQ_INVALID_ARGUMENT, "dpq_stream_send: use the send function of this stream's RPC");
  return dpq__stream_send(s, NULL, message, len, err);
}

int dpq_stream_finish(dpq_stream *s, uint8_t **response, size_t *response_len, dpq_error *err) {
  dpq__clear_err(err);
  if (response) *response = NULL;
  if (response_len) *response_len = 0;
  if (!s || !response || !response_len) {
    if (s) dpq_stream_cancel(s);
    return dpq__set_err(err, DPQ_INVALID_ARGUMENT, "dpq_stream_finish: invalid arguments");
  }
  return dpq__stream_finish(s, NULL, NULL, response, response_len, err);
}

void dpq_stream_cancel(dpq_stream *s) {
  if (!s) return;
  dpq__call_cancel(&s->call);
  stream_free(s);
}
