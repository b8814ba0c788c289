/*
 * call.c: one gRPC call on the client's connection, whatever its kind: start (HEADERS), queued
 * request messages (read by a deferred nghttp2 data provider), cancel, release, its status (from
 * grpc-status / trailers, resets, lost connections) and its response messages. unary.c and
 * generic_streams.c build every kind of call on these.
 */
#include "internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------------------------------ */
/* Lifecycle                                                                                    */

void dpq__call_init(dpq_call *k) { memset(k, 0, sizeof *k); }

/* nghttp2 data provider: hands out the queued framed messages; defers while there are none and the
 * request is not ended (dpq__call_write resumes it). */
static ssize_t body_cb(nghttp2_session *s, int32_t sid, uint8_t *buf, size_t len, uint32_t *dflags,
                       nghttp2_data_source *src, void *ud) {
  (void)src;
  (void)ud;
  dpq_call *k = nghttp2_session_get_stream_user_data(s, sid);
  if (!k) return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE; /* released: reset the stream */
  size_t n = k->out_len - k->out_off;
  if (n == 0 && !k->out_eof) {
    k->deferred = 1;
    return NGHTTP2_ERR_DEFERRED;
  }
  if (n > len) n = len;
  memcpy(buf, k->out + k->out_off, n);
  k->out_off += n;
  if (k->out_off == k->out_len) {
    k->out_off = k->out_len = 0;
    if (k->out_eof) *dflags |= NGHTTP2_DATA_FLAG_EOF;
  }
  return (ssize_t)n;
}

int dpq__call_start(dpq_client *c, dpq_call *k, const char *path, int64_t deadline, dpq_error *err) {
  k->client = c;
  k->path = path;
  k->deadline = deadline;
  int rc = dpq__ensure_connected(c, deadline, err);
  if (rc != DPQ_OK) return rc;
  int rem = dpq__remaining_ms(deadline);
  if (rem <= 0) return dpq__set_err(err, DPQ_DEADLINE_EXCEEDED, "deadline exceeded before %s was sent", path);
  k->reused = c->calls_done > 0;
  char timeout_hdr[24];
  snprintf(timeout_hdr, sizeof timeout_hdr, "%dm", rem < 99999999 ? rem : 99999999); /* <= 8 digits */
#define NV(n, v) {(uint8_t *)(n), (uint8_t *)(v), sizeof(n) - 1, strlen(v), NGHTTP2_NV_FLAG_NONE}
  nghttp2_nv hdrs[] = {
      NV(":method", "POST"),        NV(":scheme", "http"),
      NV(":path", path),            NV(":authority", c->authority),
      NV("content-type", "application/grpc"), NV("te", "trailers"),
      NV("grpc-timeout", timeout_hdr), NV("user-agent", DPQ_USER_AGENT),
  };
#undef NV
  nghttp2_data_provider prd;
  memset(&prd, 0, sizeof prd);
  prd.read_callback = body_cb;
  int32_t sid = nghttp2_submit_request(c->session, NULL, hdrs, sizeof hdrs / sizeof hdrs[0], &prd, k);
  if (sid < 0) {
    c->io_error = 1; /* e.g. stream ids exhausted: use a new connection next time */
    return dpq__set_err(err, DPQ_INTERNAL, "nghttp2_submit_request: %s", nghttp2_strerror(sid));
  }
  k->stream_id = sid;
  k->conn_id = c->conn_id;
  k->next = c->calls;
  if (c->calls) c->calls->prev = k;
  c->calls = k;
  return DPQ_OK;
}

int dpq__call_live(const dpq_call *k) {
  const dpq_client *c = k->client;
  return c && c->session && k->stream_id > 0 && k->conn_id == c->conn_id && !k->lost;
}

static void resume(dpq_call *k) {
  if (k->deferred && !k->closed && dpq__call_live(k)) {
    k->deferred = 0;
    nghttp2_session_resume_data(k->client->session, k->stream_id);
  }
}

/* Reserves a framed message of len bytes at the end of k->out; returns where the message goes. */
static uint8_t *reserve(dpq_call *k, size_t len, dpq_error *err) {
  if (len > 0xffffffffu) {
    dpq__set_err(err, DPQ_RESOURCE_EXHAUSTED, "request message too large (%zu bytes)", len);
    return NULL;
  }
  if (k->out_off && k->out_off == k->out_len) k->out_off = k->out_len = 0;
  if (k->out_len + 5 + len > k->out_cap) {
    size_t cap = k->out_len + 5 + len;
    uint8_t *p = realloc(k->out, cap);
    if (!p) {
      dpq__set_err(err, DPQ_INTERNAL, "out of memory");
      return NULL;
    }
    k->out = p;
    k->out_cap = cap;
  }
  uint8_t *f = k->out + k->out_len;
  f[0] = 0; /* not compressed */
  f[1] = (uint8_t)(len >> 24);
  f[2] = (uint8_t)(len >> 16);
  f[3] = (uint8_t)(len >> 8);
  f[4] = (uint8_t)len;
  k->out_len += 5 + len;
  return f + 5;
}

int dpq__call_write(dpq_call *k, const uint8_t *data, size_t len, int last, dpq_error *err) {
  uint8_t *p = reserve(k, len, err);
  if (!p) return err ? err->code : DPQ_INTERNAL;
  if (len) memcpy(p, data, len);
  if (last) k->out_eof = 1;
  resume(k);
  return DPQ_OK;
}

int dpq__call_write_msg(dpq_call *k, const ProtobufCMessage *msg, int last, dpq_error *err) {
  size_t len = protobuf_c_message_get_packed_size(msg);
  uint8_t *p = reserve(k, len, err);
  if (!p) return err ? err->code : DPQ_INTERNAL;
  protobuf_c_message_pack(msg, p);
  if (last) k->out_eof = 1;
  resume(k);
  return DPQ_OK;
}

void dpq__call_end_input(dpq_call *k) {
  k->out_eof = 1;
  resume(k);
}

int dpq__call_finished(const dpq_call *k) { return k->closed || k->remote_done || k->lost || k->stream_id <= 0; }

int dpq__call_finished_cb(void *arg) { return dpq__call_finished(arg); }

/* The stream may still exist in the session: nghttp2 must not reach the call any more. */
static void detach(dpq_call *k) {
  if (!k->closed && dpq__call_live(k)) nghttp2_session_set_stream_user_data(k->client->session, k->stream_id, NULL);
}

/* Resets the stream if our side is still open (the server may have ended its side already). */
static void reset(dpq_call *k) {
  dpq_client *c = k->client;
  if (k->closed || !dpq__call_live(k)) return;
  nghttp2_submit_rst_stream(c->session, NGHTTP2_FLAG_NONE, k->stream_id, NGHTTP2_CANCEL);
  detach(k);
  k->closed = 1;
  if (!k->remote_done) k->close_error = NGHTTP2_CANCEL; /* else the server's status stands */
  nghttp2_session_send(c->session); /* best effort, non-blocking */
}

void dpq__call_cancel(dpq_call *k) { reset(k); }

int dpq__call_deadline(dpq_call *k, dpq_error *err) {
  dpq__call_cancel(k);
  /* Drop the connection too: it may be the connection that is stuck. */
  if (k->client) dpq__disconnect(k->client, 0);
  return dpq__set_err(err, DPQ_DEADLINE_EXCEEDED, "deadline exceeded: %s did not complete within the deadline",
                      k->path ? k->path : "the call");
}

void dpq__call_release(dpq_call *k) {
  dpq_client *c = k->client;
  if (c && k->stream_id > 0) {
    int completed = (k->closed || k->remote_done) && !k->lost;
    reset(k);
    detach(k);
    if (k->unconsumed && dpq__call_live(k)) nghttp2_session_consume(c->session, k->stream_id, k->unconsumed);
    if (k->prev) k->prev->next = k->next;
    else if (c->calls == k) c->calls = k->next;
    if (k->next) k->next->prev = k->prev;
    if (completed) c->calls_done++;
    if (c->goaway && !c->calls) dpq__disconnect(c, 1); /* do not reuse a connection the server is draining */
  }
  free(k->out);
  free(k->in);
  free(k->grpc_message);
  memset(k, 0, sizeof *k);
}

/* ------------------------------------------------------------------------------------------ */
/* Status and messages                                                                          */

static void percent_decode(const char *in, char *out, size_t outsz) {
  size_t o = 0;
  for (size_t i = 0; in[i] && o + 1 < outsz; i++) {
    int hi, lo;
    if (in[i] == '%' && in[i + 1] && in[i + 2] &&
        (hi = (in[i + 1] >= '0' && in[i + 1] <= '9') ? in[i + 1] - '0'
              : (in[i + 1] >= 'a' && in[i + 1] <= 'f') ? in[i + 1] - 'a' + 10
              : (in[i + 1] >= 'A' && in[i + 1] <= 'F') ? in[i + 1] - 'A' + 10 : -1) >= 0 &&
        (lo = (in[i + 2] >= '0' && in[i + 2] <= '9') ? in[i + 2] - '0'
              : (in[i + 2] >= 'a' && in[i + 2] <= 'f') ? in[i + 2] - 'a' + 10
              : (in[i + 2] >= 'A' && in[i + 2] <= 'F') ? in[i + 2] - 'A' + 10 : -1) >= 0) {
      out[o++] = (char)(hi * 16 + lo);
      i += 2;
    } else {
      out[o++] = in[i];
    }
  }
  out[o] = '\0';
}

/* gRPC status for an HTTP status without grpc-status (PROTOCOL-HTTP2.md / http-grpc-status-mapping). */
static int http_to_grpc(int http) {
  switch (http) {
    case 400: return DPQ_INTERNAL;
    case 401: return DPQ_UNAUTHENTICATED;
    case 403: return DPQ_PERMISSION_DENIED;
    case 404: return DPQ_UNIMPLEMENTED;
    case 429: case 502: case 503: case 504: return DPQ_UNAVAILABLE;
    default: return DPQ_UNKNOWN;
  }
}

static int h2_to_grpc(uint32_t h2) {
  switch (h2) {
    case NGHTTP2_REFUSED_STREAM: return DPQ_UNAVAILABLE;
    case NGHTTP2_CANCEL: return DPQ_CANCELLED;
    case NGHTTP2_ENHANCE_YOUR_CALM: return DPQ_RESOURCE_EXHAUSTED;
    case NGHTTP2_INADEQUATE_SECURITY: return DPQ_PERMISSION_DENIED;
    default: return DPQ_INTERNAL;
  }
}

int dpq__call_status(dpq_call *k, int may_retry, dpq_error *err) {
  const char *path = k->path;
  dpq_client *c = k->client;
  if (k->lost) {
    if (!k->headers_seen && k->reused && may_retry && !k->lost_proto) return DPQ__RETRY; /* stale connection */
    if (k->lost_proto)
      return dpq__set_err(err, DPQ_INTERNAL, "HTTP/2 error on %s: %s", path, nghttp2_strerror(k->lost_proto));
    return dpq__set_err(err, DPQ_UNAVAILABLE, "connection to %s:%d lost during %s%s", c->host, c->port, path,
                        k->lost_eof ? " (closed by peer)" : "");
  }
  if (k->have_grpc_status) {
    int st = k->grpc_status;
    if (st != DPQ_OK) {
      if (err) {
        err->code = st;
        if (k->grpc_message && *k->grpc_message)
          percent_decode(k->grpc_message, err->message, sizeof err->message);
        else
          snprintf(err->message, sizeof err->message, "%s (no grpc-message)", dpq_status_name(st));
      }
      return st;
    }
    if (k->http_status != 200 || !k->grpc_content_type)
      return dpq__set_err(err, DPQ_INTERNAL, "response to %s has HTTP status %d / non-gRPC content-type", path,
                          k->http_status);
    return DPQ_OK;
  }
  if (k->too_big)
    return dpq__set_err(err, DPQ_RESOURCE_EXHAUSTED, "response to %s exceeds %u bytes", path, DPQ_MAX_RESPONSE_BYTES);
  if (k->close_error != 0) {
    if (k->close_error == NGHTTP2_REFUSED_STREAM && !k->headers_seen && may_retry) return DPQ__RETRY;
    return dpq__set_err(err, h2_to_grpc(k->close_error), "stream reset during %s (HTTP/2 error %s)", path,
                        nghttp2_http2_strerror(k->close_error));
  }
  if (k->http_status != 200)
    return dpq__set_err(err, http_to_grpc(k->http_status), "HTTP status %d without grpc-status from %s",
                        k->http_status, path);
  return dpq__set_err(err, DPQ_INTERNAL, "response to %s ended without grpc-status", path);
}

int dpq__call_pop(dpq_call *k, const uint8_t **msg, size_t *len, dpq_error *err) {
  *msg = NULL;
  *len = 0;
  if (!dpq__call_has_message(k)) return DPQ_OK;
  const uint8_t *p = k->in + k->in_off;
  uint32_t mlen = ((uint32_t)p[1] << 24) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 8) | (uint32_t)p[4];
  if (p[0] != 0)
    return dpq__set_err(err, DPQ_INTERNAL, "response to %s is compressed (flag %u), but no compression was negotiated",
                        k->path, p[0]);
  if (mlen > DPQ_MAX_RESPONSE_BYTES)
    return dpq__set_err(err, DPQ_RESOURCE_EXHAUSTED, "response to %s exceeds %u bytes", k->path, DPQ_MAX_RESPONSE_BYTES);
  *msg = p + 5;
  *len = mlen;
  k->in_off += 5 + (size_t)mlen;
  if (k->in_off == k->in_len) k->in_off = k->in_len = 0; /* the message stays in place until the next append */
  /* The application took it: reopen the windows. */
  if (k->unconsumed && dpq__call_live(k) && !dpq__call_has_message(k)) {
    nghttp2_session_consume(k->client->session, k->stream_id, k->unconsumed);
    k->unconsumed = 0;
  }
  return DPQ_OK;
}

int dpq__call_take_single(dpq_call *k, uint8_t **response, size_t *response_len, dpq_error *err) {
  const uint8_t *msg;
  size_t len;
  int rc = dpq__call_pop(k, &msg, &len, err);
  if (rc != DPQ_OK) return rc;
  if (!msg)
    return dpq__set_err(err, DPQ_INTERNAL, k->in_len > k->in_off ? "response to %s: truncated message"
                                                                   : "response to %s has status OK but no message",
                        k->path);
  if (k->in_len > k->in_off)
    return dpq__set_err(err, DPQ_INTERNAL, "response to %s: %zu bytes after the message", k->path,
                        k->in_len - k->in_off);
  *response = NULL;
  *response_len = len;
  if (len) {
    if (!(*response = malloc(len))) return dpq__set_err(err, DPQ_INTERNAL, "out of memory");
    memcpy(*response, msg, len);
  }
  return DPQ_OK;
}
