/*
 * dpq_client.c: gRPC (unary) over plaintext HTTP/2 with prior knowledge, using libnghttp2 for HTTP/2
 * and libprotobuf-c for the dpq.v1 / grpc.health.v1 messages. See include/dpq_client.h.
 *
 * gRPC on the wire (https://github.com/grpc/grpc/blob/master/doc/PROTOCOL-HTTP2.md):
 *   request  HEADERS  :method POST, :scheme http, :path /pkg.Service/Method, :authority,
 *                     content-type application/grpc, te trailers, grpc-timeout <n>m
 *            DATA     1 byte compressed flag (0) + 4 bytes big-endian length + message, END_STREAM
 *   response HEADERS  :status 200, content-type application/grpc
 *            DATA     length-prefixed message(s)
 *            HEADERS  (trailers) grpc-status, grpc-message (percent-encoded), END_STREAM
 *   or, for errors, a single "trailers-only" HEADERS frame carrying :status and grpc-status.
 */
#define _POSIX_C_SOURCE 200809L
#define _DEFAULT_SOURCE

#include "dpq_client.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <nghttp2/nghttp2.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "dpq/v1/collections.pb-c.h"
#include "dpq/v1/models.pb-c.h"
#include "dpq/v1/search.pb-c.h"
#include "dpq/v1/server.pb-c.h"
#include "grpc/health/v1/health.pb-c.h"

#define DPQ_DEFAULT_TIMEOUT_MS 30000
#define DPQ_MAX_RESPONSE_BYTES (64u * 1024u * 1024u) /* refuse larger responses */
#define DPQ_STREAM_WINDOW (1 << 20)                  /* per-stream receive window */
#define DPQ_CONNECTION_WINDOW (16 << 20)             /* connection receive window */
#define DPQ_USER_AGENT "dpq-c/0.1 nghttp2/" NGHTTP2_VERSION

/* ------------------------------------------------------------------------------------------ */
/* Errors                                                                                       */

static const char *const status_names[] = {
    "OK",        "CANCELLED",         "UNKNOWN",      "INVALID_ARGUMENT", "DEADLINE_EXCEEDED",
    "NOT_FOUND", "ALREADY_EXISTS",    "PERMISSION_DENIED", "RESOURCE_EXHAUSTED",
    "FAILED_PRECONDITION", "ABORTED", "OUT_OF_RANGE", "UNIMPLEMENTED",   "INTERNAL",
    "UNAVAILABLE", "DATA_LOSS",       "UNAUTHENTICATED"};

const char *dpq_status_name(int code) {
  if (code < 0 || code >= (int)(sizeof status_names / sizeof status_names[0])) return "UNKNOWN_CODE";
  return status_names[code];
}

#if defined(__GNUC__)
__attribute__((format(printf, 3, 4)))
#endif
static int set_err(dpq_error *err, int code, const char *fmt, ...) {
  if (err) {
    err->code = code;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->message, sizeof err->message, fmt, ap);
    va_end(ap);
  }
  return code;
}

static void clear_err(dpq_error *err) {
  if (err) {
    err->code = DPQ_OK;
    err->message[0] = '\0';
  }
}

/* ------------------------------------------------------------------------------------------ */
/* Time                                                                                         */

static int64_t now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int remaining_ms(int64_t deadline) {
  int64_t r = deadline - now_ms();
  if (r < 0) return 0;
  if (r > 0x7fffffff) return 0x7fffffff;
  return (int)r;
}

/* ------------------------------------------------------------------------------------------ */
/* Client and call state                                                                        */

typedef struct call {
  int32_t stream_id;
  /* request body: 5-byte prefix + message */
  uint8_t *req;
  size_t req_len, req_off;
  /* response body, raw (length-prefixed messages) */
  uint8_t *resp;
  size_t resp_len, resp_cap;
  int too_big;
  /* response metadata */
  int http_status;
  int headers_seen; /* any response HEADERS frame arrived */
  int have_grpc_status;
  int grpc_status;
  char *grpc_message; /* raw (percent-encoded), malloc'd */
  int grpc_content_type;
  /* end of stream */
  int closed;
  uint32_t close_error; /* HTTP/2 error code of RST_STREAM, 0 for a normal close */
} call;

struct dpq_client {
  char *host;
  int port;
  int timeout_ms;
  char authority[300];
  /* connection */
  int fd; /* -1 when not connected */
  nghttp2_session *session;
  int goaway;      /* the server sent GOAWAY: do not start new streams on this connection */
  int io_error;    /* send/recv failed or EOF */
  int calls_done;  /* calls completed on this connection */
  call *current;   /* the call in flight */
};

/* ------------------------------------------------------------------------------------------ */
/* nghttp2 callbacks                                                                            */

static ssize_t send_cb(nghttp2_session *s, const uint8_t *data, size_t len, int flags, void *ud) {
  (void)s;
  (void)flags;
  dpq_client *c = ud;
  ssize_t n;
  do {
    n = send(c->fd, data, len, MSG_NOSIGNAL);
  } while (n < 0 && errno == EINTR);
  if (n < 0) {
    if (errno == EAGAIN || errno == EWOULDBLOCK) return NGHTTP2_ERR_WOULDBLOCK;
    c->io_error = 1;
    return NGHTTP2_ERR_CALLBACK_FAILURE;
  }
  return n;
}

static call *stream_call(dpq_client *c, int32_t stream_id) {
  return (c->current && c->current->stream_id == stream_id) ? c->current : NULL;
}

static int header_cb(nghttp2_session *s, const nghttp2_frame *f, const uint8_t *name, size_t nlen,
                     const uint8_t *value, size_t vlen, uint8_t flags, void *ud) {
  (void)s;
  (void)flags;
  call *k = stream_call(ud, f->hd.stream_id);
  if (!k || f->hd.type != NGHTTP2_HEADERS) return 0;
  k->headers_seen = 1;
  if (nlen == 7 && !memcmp(name, ":status", 7)) {
    char tmp[8];
    snprintf(tmp, sizeof tmp, "%.*s", (int)(vlen < 7 ? vlen : 7), (const char *)value);
    k->http_status = atoi(tmp);
  } else if (nlen == 11 && !memcmp(name, "grpc-status", 11)) {
    char tmp[16];
    snprintf(tmp, sizeof tmp, "%.*s", (int)(vlen < 15 ? vlen : 15), (const char *)value);
    char *end;
    long v = strtol(tmp, &end, 10);
    k->have_grpc_status = 1;
    k->grpc_status = (end != tmp && *end == '\0' && v >= 0 && v <= 0x7fffffff) ? (int)v : DPQ_UNKNOWN;
  } else if (nlen == 12 && !memcmp(name, "grpc-message", 12)) {
    free(k->grpc_message);
    k->grpc_message = malloc(vlen + 1);
    if (k->grpc_message) {
      memcpy(k->grpc_message, value, vlen);
      k->grpc_message[vlen] = '\0';
    }
  } else if (nlen == 12 && !memcmp(name, "content-type", 12)) {
    k->grpc_content_type = vlen >= 16 && !memcmp(value, "application/grpc", 16);
  }
  return 0;
}

static int data_cb(nghttp2_session *s, uint8_t flags, int32_t sid, const uint8_t *data, size_t len,
                   void *ud) {
  (void)flags;
  call *k = stream_call(ud, sid);
  if (!k || k->too_big) return 0;
  if (k->resp_len + len > DPQ_MAX_RESPONSE_BYTES) {
    k->too_big = 1;
    nghttp2_submit_rst_stream(s, NGHTTP2_FLAG_NONE, sid, NGHTTP2_CANCEL);
    return 0;
  }
  if (k->resp_len + len > k->resp_cap) {
    size_t cap = k->resp_cap ? k->resp_cap : 4096;
    while (cap < k->resp_len + len) cap *= 2;
    uint8_t *p = realloc(k->resp, cap);
    if (!p) return NGHTTP2_ERR_CALLBACK_FAILURE;
    k->resp = p;
    k->resp_cap = cap;
  }
  memcpy(k->resp + k->resp_len, data, len);
  k->resp_len += len;
  return 0;
}

static int close_cb(nghttp2_session *s, int32_t sid, uint32_t error_code, void *ud) {
  (void)s;
  call *k = stream_call(ud, sid);
  if (k) {
    k->closed = 1;
    k->close_error = error_code;
  }
  return 0;
}

static int frame_recv_cb(nghttp2_session *s, const nghttp2_frame *f, void *ud) {
  (void)s;
  if (f->hd.type == NGHTTP2_GOAWAY) ((dpq_client *)ud)->goaway = 1;
  return 0;
}

static ssize_t body_cb(nghttp2_session *s, int32_t sid, uint8_t *buf, size_t len, uint32_t *dflags,
                       nghttp2_data_source *src, void *ud) {
  (void)s;
  (void)src;
  call *k = stream_call(ud, sid);
  if (!k) return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
  size_t n = k->req_len - k->req_off;
  if (n > len) n = len;
  memcpy(buf, k->req + k->req_off, n);
  k->req_off += n;
  if (k->req_off == k->req_len) *dflags |= NGHTTP2_DATA_FLAG_EOF;
  return (ssize_t)n;
}

/* ------------------------------------------------------------------------------------------ */
/* Connection                                                                                   */

static void disconnect(dpq_client *c, int polite) {
  if (c->session) {
    if (polite && c->fd >= 0 && !c->io_error) {
      nghttp2_session_terminate_session(c->session, NGHTTP2_NO_ERROR);
      nghttp2_session_send(c->session); /* best effort, non-blocking */
    }
    nghttp2_session_del(c->session);
    c->session = NULL;
  }
  if (c->fd >= 0) close(c->fd);
  c->fd = -1;
  c->goaway = c->io_error = c->calls_done = 0;
}

/* Connects with a non-blocking socket, bounded by `deadline`. Returns the fd or -1 (err set). */
static int tcp_connect(const char *host, int port, int64_t deadline, dpq_error *err) {
  char portstr[16];
  snprintf(portstr, sizeof portstr, "%d", port);
  struct addrinfo hints, *res = NULL;
  memset(&hints, 0, sizeof hints);
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  int rc = getaddrinfo(host, portstr, &hints, &res);
  if (rc != 0) {
    set_err(err, DPQ_UNAVAILABLE, "cannot resolve %s: %s", host, gai_strerror(rc));
    return -1;
  }
  int fd = -1, last_errno = 0, timed_out = 0;
  for (struct addrinfo *ai = res; ai && fd < 0; ai = ai->ai_next) {
    int s = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
    if (s < 0) {
      last_errno = errno;
      continue;
    }
    if (connect(s, ai->ai_addr, ai->ai_addrlen) != 0) {
      if (errno != EINPROGRESS) {
        last_errno = errno;
        close(s);
        continue;
      }
      struct pollfd p = {.fd = s, .events = POLLOUT};
      int pr;
      do {
        pr = poll(&p, 1, remaining_ms(deadline));
      } while (pr < 0 && errno == EINTR);
      if (pr == 0) {
        timed_out = 1;
        close(s);
        break;
      }
      int soerr = 0;
      socklen_t sl = sizeof soerr;
      if (pr < 0 || getsockopt(s, SOL_SOCKET, SO_ERROR, &soerr, &sl) != 0 || soerr != 0) {
        last_errno = pr < 0 ? errno : (soerr ? soerr : errno);
        close(s);
        continue;
      }
    }
    fd = s;
  }
  freeaddrinfo(res);
  if (fd < 0) {
    if (timed_out)
      set_err(err, DPQ_DEADLINE_EXCEEDED, "deadline exceeded while connecting to %s:%d", host, port);
    else
      set_err(err, DPQ_UNAVAILABLE, "cannot connect to %s:%d: %s", host, port,
              last_errno ? strerror(last_errno) : "no address");
    return -1;
  }
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return fd;
}

static int ensure_connected(dpq_client *c, int64_t deadline, dpq_error *err) {
  if (c->session && !c->goaway && !c->io_error && (nghttp2_session_want_read(c->session) ||
                                                   nghttp2_session_want_write(c->session)))
    return DPQ_OK;
  disconnect(c, 1);
  int fd = tcp_connect(c->host, c->port, deadline, err);
  if (fd < 0) return err ? err->code : DPQ_UNAVAILABLE;
  c->fd = fd;

  nghttp2_session_callbacks *cbs;
  if (nghttp2_session_callbacks_new(&cbs) != 0) {
    disconnect(c, 0);
    return set_err(err, DPQ_INTERNAL, "out of memory");
  }
  nghttp2_session_callbacks_set_send_callback(cbs, send_cb);
  nghttp2_session_callbacks_set_on_header_callback(cbs, header_cb);
  nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cbs, data_cb);
  nghttp2_session_callbacks_set_on_stream_close_callback(cbs, close_cb);
  nghttp2_session_callbacks_set_on_frame_recv_callback(cbs, frame_recv_cb);
  int rc = nghttp2_session_client_new(&c->session, cbs, c);
  nghttp2_session_callbacks_del(cbs);
  if (rc != 0) {
    c->session = NULL;
    disconnect(c, 0);
    return set_err(err, DPQ_INTERNAL, "nghttp2_session_client_new: %s", nghttp2_strerror(rc));
  }
  nghttp2_settings_entry settings[] = {
      {NGHTTP2_SETTINGS_ENABLE_PUSH, 0},
      {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, DPQ_STREAM_WINDOW},
  };
  nghttp2_submit_settings(c->session, NGHTTP2_FLAG_NONE, settings, sizeof settings / sizeof settings[0]);
  nghttp2_session_set_local_window_size(c->session, NGHTTP2_FLAG_NONE, 0, DPQ_CONNECTION_WINDOW);
  return DPQ_OK;
}

dpq_client *dpq_connect(const char *host, int port, int timeout_ms, dpq_error *err) {
  clear_err(err);
  if (!host || !*host || port <= 0 || port > 65535) {
    set_err(err, DPQ_INVALID_ARGUMENT, "dpq_connect: need a host and a port in 1..65535");
    return NULL;
  }
  dpq_client *c = calloc(1, sizeof *c);
  if (!c || !(c->host = strdup(host))) {
    free(c);
    set_err(err, DPQ_INTERNAL, "out of memory");
    return NULL;
  }
  c->fd = -1;
  c->port = port;
  c->timeout_ms = timeout_ms > 0 ? timeout_ms : DPQ_DEFAULT_TIMEOUT_MS;
  if (strchr(host, ':'))
    snprintf(c->authority, sizeof c->authority, "[%s]:%d", host, port); /* IPv6 literal */
  else
    snprintf(c->authority, sizeof c->authority, "%s:%d", host, port);
  if (ensure_connected(c, now_ms() + c->timeout_ms, err) != DPQ_OK) {
    dpq_close(c);
    return NULL;
  }
  /* Send the connection preface and SETTINGS now (non-blocking; the rest goes with the first call). */
  nghttp2_session_send(c->session);
  return c;
}

void dpq_set_timeout(dpq_client *c, int timeout_ms) {
  if (c && timeout_ms > 0) c->timeout_ms = timeout_ms;
}

void dpq_close(dpq_client *c) {
  if (!c) return;
  disconnect(c, 1);
  free(c->host);
  free(c);
}

/* ------------------------------------------------------------------------------------------ */
/* One unary call                                                                               */

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

static void call_free(call *k) {
  free(k->req);
  free(k->resp);
  free(k->grpc_message);
  memset(k, 0, sizeof *k);
}

enum { ATTEMPT_DONE = 0, ATTEMPT_RETRY = 1 };

/* Runs one attempt. Returns ATTEMPT_RETRY when the request never reached the server's application
 * on a reused connection (safe to resend), else ATTEMPT_DONE with *status set. */
static int attempt(dpq_client *c, const char *path, const uint8_t *framed, size_t framed_len,
                   int64_t deadline, int may_retry, uint8_t **response, size_t *response_len,
                   int *status, dpq_error *err) {
  *status = ensure_connected(c, deadline, err);
  if (*status != DPQ_OK) return ATTEMPT_DONE;
  int reused = c->calls_done > 0;

  call k;
  memset(&k, 0, sizeof k);
  k.req = malloc(framed_len);
  if (!k.req) {
    *status = set_err(err, DPQ_INTERNAL, "out of memory");
    return ATTEMPT_DONE;
  }
  memcpy(k.req, framed, framed_len);
  k.req_len = framed_len;

  int rem = remaining_ms(deadline);
  if (rem <= 0) {
    call_free(&k);
    *status = set_err(err, DPQ_DEADLINE_EXCEEDED, "deadline exceeded before the call to %s was sent", path);
    return ATTEMPT_DONE;
  }
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
  c->current = &k;
  k.stream_id = nghttp2_submit_request(c->session, NULL, hdrs, sizeof hdrs / sizeof hdrs[0], &prd, NULL);
  if (k.stream_id < 0) {
    int rc = k.stream_id;
    c->current = NULL;
    call_free(&k);
    c->io_error = 1; /* e.g. stream ids exhausted: use a new connection next time */
    *status = set_err(err, DPQ_INTERNAL, "nghttp2_submit_request: %s", nghttp2_strerror(rc));
    return ATTEMPT_DONE;
  }

  int timed_out = 0, proto_error = 0, eof = 0;
  uint8_t buf[16384];
  while (!k.closed) {
    if (nghttp2_session_want_write(c->session)) {
      int rc = nghttp2_session_send(c->session);
      if (rc != 0) {
        proto_error = rc;
        break;
      }
    }
    if (k.closed) break;
    if (!nghttp2_session_want_read(c->session) && !nghttp2_session_want_write(c->session)) {
      eof = 1; /* session finished (GOAWAY handled and nothing left) */
      break;
    }
    struct pollfd p = {.fd = c->fd, .events = POLLIN};
    if (nghttp2_session_want_write(c->session)) p.events |= POLLOUT;
    int rem_ms = remaining_ms(deadline);
    if (rem_ms <= 0) {
      timed_out = 1;
      break;
    }
    int pr = poll(&p, 1, rem_ms);
    if (pr < 0) {
      if (errno == EINTR) continue;
      c->io_error = 1;
      break;
    }
    if (pr == 0) {
      timed_out = 1;
      break;
    }
    if (p.revents & (POLLIN | POLLHUP | POLLERR)) {
      for (;;) {
        ssize_t n = recv(c->fd, buf, sizeof buf, 0);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
        if (n <= 0) {
          eof = 1;
          c->io_error = 1;
          break;
        }
        ssize_t m = nghttp2_session_mem_recv(c->session, buf, (size_t)n);
        if (m < 0) {
          proto_error = (int)m;
          break;
        }
        if (k.closed) break;
      }
      if (eof || proto_error) break;
    }
  }
  c->current = NULL;

  if (timed_out) {
    /* Cancel the stream, then drop the connection: it may be the connection that is stuck. */
    nghttp2_submit_rst_stream(c->session, NGHTTP2_FLAG_NONE, k.stream_id, NGHTTP2_CANCEL);
    nghttp2_session_send(c->session);
    disconnect(c, 0);
    call_free(&k);
    *status = set_err(err, DPQ_DEADLINE_EXCEEDED, "deadline exceeded: no response to %s within the deadline", path);
    return ATTEMPT_DONE;
  }
  if (!k.closed) {
    int was_headers = k.headers_seen;
    call_free(&k);
    if (proto_error && !c->io_error) {
      disconnect(c, 0);
      *status = set_err(err, DPQ_INTERNAL, "HTTP/2 error on %s: %s", path, nghttp2_strerror(proto_error));
      return ATTEMPT_DONE;
    }
    disconnect(c, 0);
    if (!was_headers && reused && may_retry) return ATTEMPT_RETRY; /* stale kept-alive connection */
    *status = set_err(err, DPQ_UNAVAILABLE, "connection to %s:%d lost during %s%s", c->host, c->port, path,
                      eof ? " (closed by peer)" : "");
    return ATTEMPT_DONE;
  }

  c->calls_done++;
  if (c->goaway) disconnect(c, 1); /* do not reuse a connection the server is draining */

  /* Stream closed: work out the status. */
  if (k.have_grpc_status) {
    *status = k.grpc_status;
    if (*status != DPQ_OK) {
      if (err) {
        err->code = *status;
        if (k.grpc_message && *k.grpc_message)
          percent_decode(k.grpc_message, err->message, sizeof err->message);
        else
          snprintf(err->message, sizeof err->message, "%s (no grpc-message)", dpq_status_name(*status));
      }
      call_free(&k);
      return ATTEMPT_DONE;
    }
  } else if (k.too_big) {
    call_free(&k);
    *status = set_err(err, DPQ_RESOURCE_EXHAUSTED, "response to %s exceeds %u bytes", path, DPQ_MAX_RESPONSE_BYTES);
    return ATTEMPT_DONE;
  } else if (k.close_error != 0) {
    uint32_t e = k.close_error;
    int hs = k.headers_seen;
    call_free(&k);
    if (e == NGHTTP2_REFUSED_STREAM && !hs && may_retry) return ATTEMPT_RETRY;
    *status = set_err(err, h2_to_grpc(e), "stream reset by the server during %s (HTTP/2 error %s)", path,
                      nghttp2_http2_strerror(e));
    return ATTEMPT_DONE;
  } else if (k.http_status != 200) {
    int hs = k.http_status;
    call_free(&k);
    *status = set_err(err, http_to_grpc(hs), "HTTP status %d without grpc-status from %s", hs, path);
    return ATTEMPT_DONE;
  } else {
    call_free(&k);
    *status = set_err(err, DPQ_INTERNAL, "response to %s ended without grpc-status", path);
    return ATTEMPT_DONE;
  }

  /* grpc-status 0: exactly one length-prefixed, uncompressed message. */
  if (k.http_status != 200 || !k.grpc_content_type) {
    *status = set_err(err, DPQ_INTERNAL, "response to %s has HTTP status %d / non-gRPC content-type", path,
                      k.http_status);
    call_free(&k);
    return ATTEMPT_DONE;
  }
  if (k.resp_len < 5) {
    *status = set_err(err, DPQ_INTERNAL, "response to %s has status OK but no message", path);
    call_free(&k);
    return ATTEMPT_DONE;
  }
  uint32_t mlen = ((uint32_t)k.resp[1] << 24) | ((uint32_t)k.resp[2] << 16) | ((uint32_t)k.resp[3] << 8) |
                  (uint32_t)k.resp[4];
  if (k.resp[0] != 0) {
    *status = set_err(err, DPQ_INTERNAL, "response to %s is compressed (flag %u), but no compression was negotiated",
                      path, k.resp[0]);
  } else if ((size_t)mlen + 5 != k.resp_len) {
    *status = set_err(err, DPQ_INTERNAL, "response to %s: message length %u does not match %zu body bytes", path,
                      mlen, k.resp_len - 5);
  } else {
    *response_len = mlen;
    *response = NULL;
    if (mlen) {
      *response = malloc(mlen);
      if (!*response) {
        *status = set_err(err, DPQ_INTERNAL, "out of memory");
        call_free(&k);
        return ATTEMPT_DONE;
      }
      memcpy(*response, k.resp + 5, mlen);
    }
    *status = DPQ_OK;
  }
  call_free(&k);
  return ATTEMPT_DONE;
}

int dpq_unary_call(dpq_client *c, const char *path, const uint8_t *request, size_t request_len,
                   uint8_t **response, size_t *response_len, dpq_error *err) {
  clear_err(err);
  if (!c || !path || !response || !response_len || (request_len && !request))
    return set_err(err, DPQ_INVALID_ARGUMENT, "dpq_unary_call: invalid arguments");
  *response = NULL;
  *response_len = 0;
  if (request_len > 0xffffffffu)
    return set_err(err, DPQ_RESOURCE_EXHAUSTED, "request message too large (%zu bytes)", request_len);
  int64_t deadline = now_ms() + c->timeout_ms;

  size_t framed_len = 5 + request_len;
  uint8_t *framed = malloc(framed_len);
  if (!framed) return set_err(err, DPQ_INTERNAL, "out of memory");
  framed[0] = 0; /* not compressed */
  framed[1] = (uint8_t)(request_len >> 24);
  framed[2] = (uint8_t)(request_len >> 16);
  framed[3] = (uint8_t)(request_len >> 8);
  framed[4] = (uint8_t)request_len;
  if (request_len) memcpy(framed + 5, request, request_len);

  int status = DPQ_OK;
  int r = attempt(c, path, framed, framed_len, deadline, 1, response, response_len, &status, err);
  if (r == ATTEMPT_RETRY)
    attempt(c, path, framed, framed_len, deadline, 0, response, response_len, &status, err);
  free(framed);
  if (status == DPQ_OK) clear_err(err);
  return status;
}

/* Packs `req`, calls `path`, unpacks the response with `desc`. *out must be freed with
 * protobuf_c_message_free_unpacked. */
static int call_msg(dpq_client *c, const char *path, const ProtobufCMessage *req,
                    const ProtobufCMessageDescriptor *desc, ProtobufCMessage **out, dpq_error *err) {
  *out = NULL;
  size_t len = protobuf_c_message_get_packed_size(req);
  uint8_t *buf = malloc(len ? len : 1);
  if (!buf) return set_err(err, DPQ_INTERNAL, "out of memory");
  protobuf_c_message_pack(req, buf);
  uint8_t *resp = NULL;
  size_t resp_len = 0;
  int rc = dpq_unary_call(c, path, buf, len, &resp, &resp_len, err);
  free(buf);
  if (rc != DPQ_OK) return rc;
  static const uint8_t empty[1] = {0};
  *out = protobuf_c_message_unpack(desc, NULL, resp_len, resp ? resp : empty);
  free(resp);
  if (!*out) return set_err(err, DPQ_INTERNAL, "cannot parse the %s response of %s", desc->name, path);
  return DPQ_OK;
}

static char *xstrdup(const char *s) { return strdup(s ? s : ""); }

/* ------------------------------------------------------------------------------------------ */
/* Health                                                                                       */

int dpq_health(dpq_client *c, const char *service, int *serving_status, dpq_error *err) {
  clear_err(err);
  if (serving_status) *serving_status = DPQ_HEALTH_UNKNOWN;
  Grpc__Health__V1__HealthCheckRequest req = GRPC__HEALTH__V1__HEALTH_CHECK_REQUEST__INIT;
  req.service = (char *)(service ? service : "");
  ProtobufCMessage *resp;
  int rc = call_msg(c, "/grpc.health.v1.Health/Check", &req.base,
                    &grpc__health__v1__health_check_response__descriptor, &resp, err);
  if (rc != DPQ_OK) return rc;
  if (serving_status) *serving_status = (int)((Grpc__Health__V1__HealthCheckResponse *)resp)->status;
  protobuf_c_message_free_unpacked(resp, NULL);
  return DPQ_OK;
}

/* ------------------------------------------------------------------------------------------ */
/* Search                                                                                       */

static int check_batch(const char *what, const float *v, size_t n, size_t dim, dpq_error *err) {
  if (n && !v) return set_err(err, DPQ_INVALID_ARGUMENT, "%s is NULL", what);
  if (dim > 0xffffffffu) return set_err(err, DPQ_INVALID_ARGUMENT, "%s.dimension too large", what);
  if (dim && n > (size_t)-1 / dim / sizeof(float))
    return set_err(err, DPQ_INVALID_ARGUMENT, "%s: too many values", what);
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

int dpq_search_ex(dpq_client *c, const char *collection, const float *queries, size_t n_queries, size_t dim,
                  uint32_t k, uint32_t bits, const dpq_search_options *opts, dpq_search_result *out,
                  dpq_error *err) {
  clear_err(err);
  if (out) memset(out, 0, sizeof *out);
  if (!c || !collection || !out) return set_err(err, DPQ_INVALID_ARGUMENT, "dpq_search: NULL argument");
  int rc = check_batch("queries", queries, n_queries, dim, err);
  if (rc) return rc;

  Dpq__V1__DenseVectors qv = DPQ__V1__DENSE_VECTORS__INIT;
  qv.dimension = (uint32_t)dim;
  qv.n_values = n_queries * dim;
  qv.values = (float *)queries;
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
    if (opts->n_any_label) {
      if (!opts->any_label) return set_err(err, DPQ_INVALID_ARGUMENT, "dpq_search: any_label is NULL");
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
  rc = call_msg(c, "/dpq.v1.SearchService/Search", &req.base, &dpq__v1__search_response__descriptor, &m, err);
  if (rc != DPQ_OK) return rc;
  Dpq__V1__SearchResponse *resp = (Dpq__V1__SearchResponse *)m;

  out->bits = resp->bits;
  out->metric = (int)resp->metric;
  out->searched_items = resp->searched_items;
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
        if (!(dh->id.str = xstrdup(sh->id->str))) goto oom;
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
  return set_err(err, DPQ_INTERNAL, "out of memory");
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
  clear_err(err);
  if (out) memset(out, 0, sizeof *out);
  if (!c || !collection || !out) return set_err(err, DPQ_INVALID_ARGUMENT, "dpq_encode: NULL argument");
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
  rc = call_msg(c, "/dpq.v1.ModelService/Encode", &req.base, &dpq__v1__encode_response__descriptor, &m, err);
  if (rc != DPQ_OK) return rc;
  Dpq__V1__EncodeResponse *resp = (Dpq__V1__EncodeResponse *)m;
  size_t cb = resp->n_codes ? resp->codes[0].len : 0;
  for (size_t i = 0; i < resp->n_codes; i++) {
    if (resp->codes[i].len != cb) {
      protobuf_c_message_free_unpacked(m, NULL);
      return set_err(err, DPQ_INTERNAL, "Encode returned codes of different lengths (%zu and %zu bytes)", cb,
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
    return set_err(err, DPQ_INTERNAL, "out of memory");
  }
  for (size_t i = 0; i < resp->n_codes; i++)
    if (cb) memcpy(out->codes + i * cb, resp->codes[i].data, cb);
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
  clear_err(err);
  if (out) memset(out, 0, sizeof *out);
  if (!c || !name || !out) return set_err(err, DPQ_INVALID_ARGUMENT, "dpq_get_collection: NULL argument");
  Dpq__V1__GetCollectionRequest req = DPQ__V1__GET_COLLECTION_REQUEST__INIT;
  req.name = (char *)name;
  ProtobufCMessage *m;
  int rc = call_msg(c, "/dpq.v1.CollectionService/GetCollection", &req.base,
                    &dpq__v1__get_collection_response__descriptor, &m, err);
  if (rc != DPQ_OK) return rc;
  Dpq__V1__CollectionInfo *ci = ((Dpq__V1__GetCollectionResponse *)m)->collection;
  if (!ci) {
    protobuf_c_message_free_unpacked(m, NULL);
    return set_err(err, DPQ_INTERNAL, "GetCollection response without collection");
  }
  out->name = xstrdup(ci->name);
  out->last_error = xstrdup(ci->last_error);
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
    return set_err(err, DPQ_INTERNAL, "out of memory");
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
  clear_err(err);
  if (out) memset(out, 0, sizeof *out);
  if (!c || !out) return set_err(err, DPQ_INVALID_ARGUMENT, "dpq_get_server_info: NULL argument");
  Dpq__V1__GetServerInfoRequest req = DPQ__V1__GET_SERVER_INFO_REQUEST__INIT;
  ProtobufCMessage *m;
  int rc = call_msg(c, "/dpq.v1.ServerInfoService/GetServerInfo", &req.base,
                    &dpq__v1__get_server_info_response__descriptor, &m, err);
  if (rc != DPQ_OK) return rc;
  Dpq__V1__GetServerInfoResponse *r = (Dpq__V1__GetServerInfoResponse *)m;
  int ok = 1;
  out->version = xstrdup(r->version);
  out->build_commit = xstrdup(r->build_commit);
  out->api_version = xstrdup(r->api_version);
  ok = out->version && out->build_commit && out->api_version;
  out->services = calloc(r->n_services ? r->n_services : 1, sizeof *out->services);
  if (out->services) {
    out->n_services = r->n_services;
    for (size_t i = 0; i < r->n_services; i++)
      if (!(out->services[i] = xstrdup(r->services[i]))) ok = 0;
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
    return set_err(err, DPQ_INTERNAL, "out of memory");
  }
  return DPQ_OK;
}
