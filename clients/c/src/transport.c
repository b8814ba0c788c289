/*
 * transport.c: the client's HTTP/2 connection (plaintext, prior knowledge) with libnghttp2, and the
 * event loop that every call runs on. See internal.h for how calls use it.
 *
 * gRPC on the wire (https://github.com/grpc/grpc/blob/master/doc/PROTOCOL-HTTP2.md):
 *   request  HEADERS  :method POST, :scheme http, :path /pkg.Service/Method, :authority,
 *                     content-type application/grpc, te trailers, grpc-timeout <n>m
 *            DATA     per message: 1 byte compressed flag (0) + 4 bytes big-endian length + message;
 *                     END_STREAM after the last one
 *   response HEADERS  :status 200, content-type application/grpc
 *            DATA     length-prefixed message(s)
 *            HEADERS  (trailers) grpc-status, grpc-message (percent-encoded), END_STREAM
 *   or, for errors, a single "trailers-only" HEADERS frame carrying :status and grpc-status.
 *
 * Flow control: received DATA is given back to the windows (nghttp2_session_consume) when the
 * application takes it (dpq__call_pop), or at once for unary calls and while a message is still
 * incomplete, so a slow consumer of a server stream stops the server instead of growing a buffer.
 */
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* ------------------------------------------------------------------------------------------ */
/* Errors, time, strings                                                                        */

static const char *const status_names[] = {
    "OK",        "CANCELLED",         "UNKNOWN",      "INVALID_ARGUMENT", "DEADLINE_EXCEEDED",
    "NOT_FOUND", "ALREADY_EXISTS",    "PERMISSION_DENIED", "RESOURCE_EXHAUSTED",
    "FAILED_PRECONDITION", "ABORTED", "OUT_OF_RANGE", "UNIMPLEMENTED",   "INTERNAL",
    "UNAVAILABLE", "DATA_LOSS",       "UNAUTHENTICATED"};

const char *dpq_status_name(int code) {
  if (code < 0 || code >= (int)(sizeof status_names / sizeof status_names[0])) return "UNKNOWN_CODE";
  return status_names[code];
}

int dpq__set_err(dpq_error *err, int code, const char *fmt, ...) {
  if (err) {
    err->code = code;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->message, sizeof err->message, fmt, ap);
    va_end(ap);
  }
  return code;
}

void dpq__clear_err(dpq_error *err) {
  if (err) {
    err->code = DPQ_OK;
    err->message[0] = '\0';
  }
}

int64_t dpq__now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int dpq__remaining_ms(int64_t deadline) {
  int64_t r = deadline - dpq__now_ms();
  if (r < 0) return 0;
  if (r > 0x7fffffff) return 0x7fffffff;
  return (int)r;
}

char *dpq__strdup(const char *s) { return strdup(s ? s : ""); }

void dpq__copy_str(char *dst, size_t size, const char *src) { snprintf(dst, size, "%s", src ? src : ""); }

/* ------------------------------------------------------------------------------------------ */
/* nghttp2 callbacks. A stream's user data is its dpq_call (NULL once the call is released).     */

static dpq_call *stream_call(nghttp2_session *s, int32_t stream_id) {
  return stream_id > 0 ? nghttp2_session_get_stream_user_data(s, stream_id) : NULL;
}

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

static int header_cb(nghttp2_session *s, const nghttp2_frame *f, const uint8_t *name, size_t nlen,
                     const uint8_t *value, size_t vlen, uint8_t flags, void *ud) {
  (void)flags;
  (void)ud;
  dpq_call *k = stream_call(s, f->hd.stream_id);
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

/* Is a whole length-prefixed message waiting in k->in? */
int dpq__call_has_message(const dpq_call *k) {
  size_t avail = k->in_len - k->in_off;
  if (avail < 5) return 0;
  const uint8_t *p = k->in + k->in_off;
  uint32_t mlen = ((uint32_t)p[1] << 24) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 8) | (uint32_t)p[4];
  return avail - 5 >= mlen;
}

static int data_cb(nghttp2_session *s, uint8_t flags, int32_t sid, const uint8_t *data, size_t len, void *ud) {
  (void)flags;
  (void)ud;
  dpq_call *k = stream_call(s, sid);
  if (!k || k->too_big) {
    nghttp2_session_consume(s, sid, len); /* nobody reads it: keep the windows open */
    return 0;
  }
  if (k->in_len - k->in_off + len > DPQ_MAX_RESPONSE_BYTES + 5) {
    k->too_big = 1;
    nghttp2_session_consume(s, sid, len);
    nghttp2_submit_rst_stream(s, NGHTTP2_FLAG_NONE, sid, NGHTTP2_CANCEL);
    return 0;
  }
  if (k->in_len + len > k->in_cap) {
    if (k->in_off) { /* compact first: earlier messages were popped */
      memmove(k->in, k->in + k->in_off, k->in_len - k->in_off);
      k->in_len -= k->in_off;
      k->in_off = 0;
    }
    if (k->in_len + len > k->in_cap) {
      size_t cap = k->in_cap ? k->in_cap : 4096;
      while (cap < k->in_len + len) cap *= 2;
      uint8_t *p = realloc(k->in, cap);
      if (!p) return NGHTTP2_ERR_CALLBACK_FAILURE;
      k->in = p;
      k->in_cap = cap;
    }
  }
  memcpy(k->in + k->in_len, data, len);
  k->in_len += len;
  k->unconsumed += len;
  /* Hold the window only while complete messages wait for the application. */
  if (k->auto_consume || !dpq__call_has_message(k)) {
    nghttp2_session_consume(s, sid, k->unconsumed);
    k->unconsumed = 0;
  }
  return 0;
}

static int close_cb(nghttp2_session *s, int32_t sid, uint32_t error_code, void *ud) {
  (void)ud;
  dpq_call *k = stream_call(s, sid);
  if (k && !k->closed) {
    k->closed = 1;
    k->close_error = error_code;
  }
  return 0;
}

/* A request HEADERS that could not be sent (e.g. GOAWAY arrived first) never reached the server. */
static int not_sent_cb(nghttp2_session *s, const nghttp2_frame *f, int lib_error, void *ud) {
  (void)lib_error;
  (void)ud;
  dpq_call *k = f->hd.type == NGHTTP2_HEADERS ? stream_call(s, f->hd.stream_id) : NULL;
  if (k && !k->closed && !k->headers_seen) {
    k->closed = 1;
    k->close_error = NGHTTP2_REFUSED_STREAM;
  }
  return 0;
}

static int frame_recv_cb(nghttp2_session *s, const nghttp2_frame *f, void *ud) {
  if (f->hd.type == NGHTTP2_GOAWAY) ((dpq_client *)ud)->goaway = 1;
  if ((f->hd.type == NGHTTP2_HEADERS || f->hd.type == NGHTTP2_DATA) && (f->hd.flags & NGHTTP2_FLAG_END_STREAM)) {
    dpq_call *k = stream_call(s, f->hd.stream_id);
    if (k) k->remote_done = 1; /* the stream stays half-open until our side ends too */
  }
  return 0;
}

/* ------------------------------------------------------------------------------------------ */
/* Connection                                                                                   */

static void mark_lost(dpq_client *c, int proto_error, int eof) {
  for (dpq_call *k = c->calls; k; k = k->next) {
    if (!k->closed && !k->remote_done && !k->lost) {
      k->lost = 1;
      k->lost_proto = proto_error;
      k->lost_eof = eof;
    }
  }
}

void dpq__disconnect(dpq_client *c, int polite) {
  mark_lost(c, 0, 0);
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

/* The connection failed: its calls are lost for this reason, and it is closed. */
static void fail_connection(dpq_client *c, int proto_error, int eof) {
  mark_lost(c, proto_error, eof);
  dpq__disconnect(c, 0);
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
    dpq__set_err(err, DPQ_UNAVAILABLE, "cannot resolve %s: %s", host, gai_strerror(rc));
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
        pr = poll(&p, 1, dpq__remaining_ms(deadline));
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
      dpq__set_err(err, DPQ_DEADLINE_EXCEEDED, "deadline exceeded while connecting to %s:%d", host, port);
    else
      dpq__set_err(err, DPQ_UNAVAILABLE, "cannot connect to %s:%d: %s", host, port,
                   last_errno ? strerror(last_errno) : "no address");
    return -1;
  }
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return fd;
}

static int usable(const dpq_client *c) {
  return c->session && !c->goaway && !c->io_error &&
         (nghttp2_session_want_read(c->session) || nghttp2_session_want_write(c->session));
}

int dpq__ensure_connected(dpq_client *c, int64_t deadline, dpq_error *err) {
  /* Take in what the server sent while we were idle (a GOAWAY, a close) before reusing the connection. */
  if (usable(c)) dpq__pump(c, NULL, NULL, dpq__now_ms());
  if (usable(c)) return DPQ_OK;
  dpq__disconnect(c, 1);
  /* The current server first, then the others in turn (addresses.c), each with an equal share of the
   * time left (at least 1 s; the last one gets all of it). */
  int fd = -1;
  for (int tried = 0; tried < c->n_addrs && fd < 0; tried++) {
    if (tried) dpq__use_address(c, (c->current + 1) % c->n_addrs);
    int64_t now = dpq__now_ms(), left = c->n_addrs - tried;
    if (tried && now >= deadline) break;
    int64_t share = (deadline - now) / left;
    int64_t until = left == 1 ? deadline : now + (share < 1000 ? 1000 : share);
    fd = tcp_connect(c->host, c->port, until < deadline ? until : deadline, err);
  }
  if (fd < 0) return err ? err->code : DPQ_UNAVAILABLE;
  c->fd = fd;
  c->conn_id++;

  nghttp2_session_callbacks *cbs;
  nghttp2_option *opt;
  if (nghttp2_session_callbacks_new(&cbs) != 0) {
    dpq__disconnect(c, 0);
    return dpq__set_err(err, DPQ_INTERNAL, "out of memory");
  }
  if (nghttp2_option_new(&opt) != 0) {
    nghttp2_session_callbacks_del(cbs);
    dpq__disconnect(c, 0);
    return dpq__set_err(err, DPQ_INTERNAL, "out of memory");
  }
  nghttp2_session_callbacks_set_send_callback(cbs, send_cb);
  nghttp2_session_callbacks_set_on_header_callback(cbs, header_cb);
  nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cbs, data_cb);
  nghttp2_session_callbacks_set_on_stream_close_callback(cbs, close_cb);
  nghttp2_session_callbacks_set_on_frame_recv_callback(cbs, frame_recv_cb);
  nghttp2_session_callbacks_set_on_frame_not_send_callback(cbs, not_sent_cb);
  nghttp2_option_set_no_auto_window_update(opt, 1); /* see data_cb and dpq__call_pop */
  int rc = nghttp2_session_client_new2(&c->session, cbs, c, opt);
  nghttp2_session_callbacks_del(cbs);
  nghttp2_option_del(opt);
  if (rc != 0) {
    c->session = NULL;
    dpq__disconnect(c, 0);
    return dpq__set_err(err, DPQ_INTERNAL, "nghttp2_session_client_new: %s", nghttp2_strerror(rc));
  }
  nghttp2_settings_entry settings[] = {
      {NGHTTP2_SETTINGS_ENABLE_PUSH, 0},
      {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, DPQ_STREAM_WINDOW},
  };
  nghttp2_submit_settings(c->session, NGHTTP2_FLAG_NONE, settings, sizeof settings / sizeof settings[0]);
  nghttp2_session_set_local_window_size(c->session, NGHTTP2_FLAG_NONE, 0, DPQ_CONNECTION_WINDOW);
  return DPQ_OK;
}

/* ------------------------------------------------------------------------------------------ */
/* Event loop                                                                                   */

int dpq__pump(dpq_client *c, int (*done)(void *arg), void *arg, int64_t deadline) {
  uint8_t buf[16384];
  for (;;) {
    if (!c->session) return DPQ_PUMP_FAILED;
    if (nghttp2_session_want_write(c->session)) {
      int rc = nghttp2_session_send(c->session);
      if (rc != 0) {
        fail_connection(c, c->io_error ? 0 : rc, 0);
        return DPQ_PUMP_FAILED;
      }
    }
    if (done && done(arg)) return DPQ_PUMP_DONE;
    if (!nghttp2_session_want_read(c->session) && !nghttp2_session_want_write(c->session)) {
      fail_connection(c, 0, 1); /* session over (GOAWAY handled and nothing left) */
      return DPQ_PUMP_FAILED;
    }
    struct pollfd p = {.fd = c->fd, .events = POLLIN};
    if (nghttp2_session_want_write(c->session)) p.events |= POLLOUT;
    int pr = poll(&p, 1, dpq__remaining_ms(deadline));
    if (pr < 0) {
      if (errno == EINTR) continue;
      fail_connection(c, 0, 0);
      return DPQ_PUMP_FAILED;
    }
    if (pr == 0) return DPQ_PUMP_TIMEOUT;
    if (!(p.revents & (POLLIN | POLLHUP | POLLERR))) continue;
    for (;;) {
      ssize_t n = recv(c->fd, buf, sizeof buf, 0);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
      if (n <= 0) {
        c->io_error = 1;
        fail_connection(c, 0, 1);
        return DPQ_PUMP_FAILED;
      }
      ssize_t m = nghttp2_session_mem_recv(c->session, buf, (size_t)n);
      if (m < 0) {
        fail_connection(c, (int)m, 0);
        return DPQ_PUMP_FAILED;
      }
      if (done && done(arg)) break;
    }
  }
}

/* ------------------------------------------------------------------------------------------ */
/* Client                                                                                       */

dpq_client *dpq_connect(const char *host, int port, int timeout_ms, dpq_error *err) {
  dpq__clear_err(err);
  if (!host || !*host || port <= 0 || port > 65535) {
    dpq__set_err(err, DPQ_INVALID_ARGUMENT, "dpq_connect: need a host and a port in 1..65535");
    return NULL;
  }
  dpq_address *a = calloc(1, sizeof *a);
  if (!a || !(a->host = strdup(host))) {
    free(a);
    dpq__set_err(err, DPQ_INTERNAL, "out of memory");
    return NULL;
  }
  a->port = port;
  return dpq__connect_list(a, 1, 0, timeout_ms, err);
}

dpq_client *dpq__connect_list(dpq_address *a, int n, int start, int timeout_ms, dpq_error *err) {
  dpq_client *c = calloc(1, sizeof *c);
  if (!c) {
    dpq__free_addresses(a, n);
    dpq__set_err(err, DPQ_INTERNAL, "out of memory");
    return NULL;
  }
  c->addrs = a;
  c->n_addrs = n;
  c->fd = -1;
  c->timeout_ms = timeout_ms > 0 ? timeout_ms : DPQ_DEFAULT_TIMEOUT_MS;
  dpq__use_address(c, start);
  if (dpq__ensure_connected(c, dpq__now_ms() + c->timeout_ms, err) != DPQ_OK) {
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
  dpq__disconnect(c, 1);
  dpq__free_addresses(c->addrs, c->n_addrs);
  free(c);
}
