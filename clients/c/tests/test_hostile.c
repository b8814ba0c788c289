/*
 * test_hostile: malformed gRPC framing sent to a real DPQ server over raw HTTP/2 (libnghttp2),
 * each case followed by a normal call that must still succeed (run by tests/run.sh, `make test`).
 *
 *   test_hostile --host H --port P
 *
 * Cases (the server must answer each with a gRPC status or a stream reset, never crash, and keep
 * answering normal calls on the same and on new connections):
 *   - a length prefix larger than the data, then END_STREAM (truncated message)
 *   - the compressed flag set without a grpc-encoding header
 *   - a 5-byte prefix declaring 4 GiB (and 64 MiB + 1, just over the message limit)
 *   - a prefix cut short (3 of the 5 bytes), then END_STREAM
 *   - well-framed garbage protobuf (invalid wire type, huge declared field length)
 *   - an unknown method; a wrong content-type
 *   - a stream reset (RST_STREAM CANCEL) mid-message, then a normal call on the same connection
 *   - the connection closed mid-message, then a normal call on a new connection
 *   - a GOAWAY from the client mid-message
 * Prints one line per check and "hostile cases: N, checks: P passed, F failed".
 */
#define _POSIX_C_SOURCE 200809L
#define _DEFAULT_SOURCE

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <nghttp2/nghttp2.h>
#include <poll.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "check.h"

static int n_cases;

/* ------------------------------------------------------------------------------------------ */
/* One HTTP/2 connection with at most a few streams in flight                                  */

typedef struct {
  int32_t id;
  const uint8_t *body; size_t body_len, body_off;
  int eof;            /* send END_STREAM once the body is out */
  int http_status, grpc_status, closed, reset;
  uint32_t close_error;
  size_t resp_bytes;
  char grpc_message[256];
} Stream;

typedef struct {
  int fd;
  nghttp2_session *session;
  Stream *streams[4];
  int n_streams;
  int peer_goaway;
} Conn;

static Stream *find(Conn *c, int32_t id) {
  for (int i = 0; i < c->n_streams; i++) if (c->streams[i]->id == id) return c->streams[i];
  return NULL;
}

static ssize_t send_cb(nghttp2_session *s, const uint8_t *data, size_t len, int flags, void *ud) {
  (void)s; (void)flags;
  Conn *c = ud;
  ssize_t n = send(c->fd, data, len, MSG_NOSIGNAL);
  if (n < 0) return NGHTTP2_ERR_CALLBACK_FAILURE;
  return n;
}

static int header_cb(nghttp2_session *s, const nghttp2_frame *f, const uint8_t *name, size_t nlen,
                     const uint8_t *value, size_t vlen, uint8_t flags, void *ud) {
  (void)s; (void)flags;
  Stream *st = find(ud, f->hd.stream_id);
  if (!st) return 0;
  if (nlen == 7 && !memcmp(name, ":status", 7)) st->http_status = atoi((const char *)value);
  else if (nlen == 11 && !memcmp(name, "grpc-status", 11)) st->grpc_status = atoi((const char *)value);
  else if (nlen == 12 && !memcmp(name, "grpc-message", 12))
    snprintf(st->grpc_message, sizeof st->grpc_message, "%.*s", (int)vlen, value);
  return 0;
}

static int data_cb(nghttp2_session *s, uint8_t flags, int32_t sid, const uint8_t *data, size_t len, void *ud) {
  (void)s; (void)flags; (void)data;
  Stream *st = find(ud, sid);
  if (st) st->resp_bytes += len;
  return 0;
}

static int close_cb(nghttp2_session *s, int32_t sid, uint32_t err, void *ud) {
  (void)s;
  Stream *st = find(ud, sid);
  if (st) { st->closed = 1; st->close_error = err; }
  return 0;
}

static int frame_recv_cb(nghttp2_session *s, const nghttp2_frame *f, void *ud) {
  (void)s;
  Conn *c = ud;
  if (f->hd.type == NGHTTP2_GOAWAY) c->peer_goaway = 1;
  if (f->hd.type == NGHTTP2_RST_STREAM) { Stream *st = find(c, f->hd.stream_id); if (st) st->reset = 1; }
  return 0;
}

static ssize_t body_cb(nghttp2_session *s, int32_t sid, uint8_t *buf, size_t len, uint32_t *dflags,
                       nghttp2_data_source *src, void *ud) {
  (void)s; (void)sid; (void)ud;
  Stream *st = src->ptr;
  size_t n = st->body_len - st->body_off;
  if (n > len) n = len;
  memcpy(buf, st->body + st->body_off, n);
  st->body_off += n;
  if (st->body_off == st->body_len) {
    if (st->eof) *dflags |= NGHTTP2_DATA_FLAG_EOF;
    else if (n == 0) return NGHTTP2_ERR_DEFERRED; /* hold the stream open, mid-message */
  }
  return (ssize_t)n;
}

static int conn_open(Conn *c, const char *host, int port) {
  memset(c, 0, sizeof *c);
  c->fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
  inet_pton(AF_INET, host, &sa.sin_addr);
  if (connect(c->fd, (struct sockaddr *)&sa, sizeof sa) != 0) { perror("connect"); close(c->fd); return -1; }
  int one = 1;
  setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  nghttp2_session_callbacks *cbs;
  nghttp2_session_callbacks_new(&cbs);
  nghttp2_session_callbacks_set_send_callback(cbs, send_cb);
  nghttp2_session_callbacks_set_on_header_callback(cbs, header_cb);
  nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cbs, data_cb);
  nghttp2_session_callbacks_set_on_stream_close_callback(cbs, close_cb);
  nghttp2_session_callbacks_set_on_frame_recv_callback(cbs, frame_recv_cb);
  nghttp2_session_client_new(&c->session, cbs, c);
  nghttp2_session_callbacks_del(cbs);
  nghttp2_settings_entry settings[] = {{NGHTTP2_SETTINGS_ENABLE_PUSH, 0}};
  nghttp2_submit_settings(c->session, NGHTTP2_FLAG_NONE, settings, 1);
  return nghttp2_session_send(c->session) == 0 ? 0 : -1;
}

static void conn_close(Conn *c) {
  if (c->session) nghttp2_session_del(c->session);
  if (c->fd >= 0) close(c->fd);
  c->session = NULL; c->fd = -1;
}

#define NV(n, v) { (uint8_t *)(n), (uint8_t *)(v), sizeof(n) - 1, strlen(v), NGHTTP2_NV_FLAG_NONE }

/* Submits a POST to `path` with `body` as the DATA; END_STREAM after it when `eof`. */
static int submit(Conn *c, Stream *st, const char *path, const char *content_type, const char *encoding,
                  const uint8_t *body, size_t len, int eof) {
  memset(st, 0, sizeof *st);
  st->grpc_status = -1;
  st->body = body; st->body_len = len; st->eof = eof;
  nghttp2_nv hdrs[8] = {
      NV(":method", "POST"), NV(":scheme", "http"), NV(":path", path), NV(":authority", "localhost"),
      NV("content-type", content_type), NV("te", "trailers"),
  };
  size_t n = 6;
  if (encoding) { nghttp2_nv e = NV("grpc-encoding", encoding); hdrs[n++] = e; }
  nghttp2_data_provider prd = {.source = {.ptr = st}, .read_callback = body_cb};
  c->streams[c->n_streams++] = st;
  st->id = nghttp2_submit_request(c->session, NULL, hdrs, n, &prd, c);
  return st->id > 0 ? 0 : -1;
}

/* Pumps the connection for up to `ms` milliseconds or until `st` closes (st may be NULL: just pump). */
static void pump(Conn *c, Stream *st, int ms) {
  int64_t deadline = now_ms() + ms;
  uint8_t buf[16384];
  while (now_ms() < deadline && !(st && st->closed)) {
    if (nghttp2_session_send(c->session) != 0) return;
    struct pollfd p = {.fd = c->fd, .events = POLLIN};
    int rem = (int)(deadline - now_ms());
    if (rem <= 0) break;
    if (poll(&p, 1, rem > 50 ? 50 : rem) <= 0) continue;
    ssize_t n = recv(c->fd, buf, sizeof buf, 0);
    if (n <= 0) return;
    if (nghttp2_session_mem_recv(c->session, buf, (size_t)n) < 0) return;
  }
}

static uint8_t *frame(uint8_t flag, uint32_t declared, const uint8_t *msg, size_t len, size_t *out_len) {
  uint8_t *b = malloc(5 + len);
  b[0] = flag;
  uint32_t be = htonl(declared);
  memcpy(b + 1, &be, 4);
  if (len) memcpy(b + 5, msg, len);
  *out_len = 5 + len;
  return b;
}

static const char *host = "127.0.0.1";
static int port;
#define GRPC "application/grpc"
#define INFO "/dpq.v1.ServerInfoService/GetServerInfo"
#define SEARCH "/dpq.v1.SearchService/Search"

/* A normal GetServerInfo call (empty request) on `c`: must end with grpc-status 0 and a response. */
static int normal_call(Conn *c, const char *after) {
  static const uint8_t empty[5] = {0, 0, 0, 0, 0};
  Stream st;
  if (submit(c, &st, INFO, GRPC, NULL, empty, 5, 1) != 0) return check(0, "server answers after %s (submit failed)", after);
  pump(c, &st, 10000);
  c->n_streams--;
  return check(st.closed && st.grpc_status == 0 && st.resp_bytes > 5,
               "server answers a normal call after %s (closed %d, grpc-status %d, %zu response bytes)",
               after, st.closed, st.grpc_status, st.resp_bytes);
}

static int fresh_normal_call(const char *after) {
  Conn c;
  if (conn_open(&c, host, port) != 0) return check(0, "connect after %s", after);
  int ok = normal_call(&c, after);
  conn_close(&c);
  return ok;
}

/* One request on a fresh connection; returns the stream's outcome. The caller checks it. */
static Stream one_call(const char *path, const char *ctype, const char *encoding, const uint8_t *body, size_t len) {
  Conn c;
  Stream st;
  memset(&st, 0, sizeof st);
  st.grpc_status = -2;
  if (conn_open(&c, host, port) != 0) return st;
  submit(&c, &st, path, ctype, encoding, body, len, 1);
  pump(&c, &st, 15000);
  /* The same connection must still serve a normal call unless the server sent GOAWAY. */
  Stream copy = st;
  if (!c.peer_goaway) normal_call(&c, "the case (same connection)");
  conn_close(&c);
  return copy;
}

/* grpc-status present and one of the allowed codes, or a stream reset when `reset_ok`. */
static int status_in(const Stream *st, const int *allowed, int n, int reset_ok) {
  if (!st->closed) return 0;
  if (st->grpc_status >= 0) { for (int i = 0; i < n; i++) if (st->grpc_status == allowed[i]) return 1; return 0; }
  return reset_ok && st->close_error != 0;
}

int main(int argc, char **argv) {
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!strcmp(argv[i], "--host")) host = argv[i + 1];
    else if (!strcmp(argv[i], "--port")) port = atoi(argv[i + 1]);
  }
  if (!port) { fprintf(stderr, "usage: test_hostile --host H --port P\n"); return 2; }

  fresh_normal_call("nothing (baseline)");

  /* A valid SearchRequest: collection "x" (does not exist), k = 3. */
  static const uint8_t search_msg[] = {0x0a, 0x01, 'x', 0x18, 0x03};
  size_t len;
  uint8_t *b;
  Stream st;

  /* 1. Declared 100 bytes, 5 sent, END_STREAM. */
  n_cases++;
  b = frame(0, 100, search_msg, sizeof search_msg, &len);
  st = one_call(SEARCH, GRPC, NULL, b, len);
  { int ok[] = {13, 3, 1}; check(status_in(&st, ok, 3, 1), "prefix larger than the data then END_STREAM: grpc-status %d '%s' (close %u)", st.grpc_status, st.grpc_message, st.close_error); }
  free(b);
  fresh_normal_call("a truncated message");

  /* 2. Compressed flag without grpc-encoding. */
  n_cases++;
  b = frame(1, sizeof search_msg, search_msg, sizeof search_msg, &len);
  st = one_call(SEARCH, GRPC, NULL, b, len);
  /* grpc-swift answers this protocol violation with RST_STREAM (no grpc-status); INTERNAL would do too. */
  { int ok[] = {13, 12, 3}; check(status_in(&st, ok, 3, 1), "compressed flag without grpc-encoding: grpc-status %d '%s' (close %u)", st.grpc_status, st.grpc_message, st.close_error); }
  free(b);
  fresh_normal_call("a compressed flag without encoding");

  /* 3. Compressed flag with an encoding the server does not support. */
  n_cases++;
  b = frame(1, sizeof search_msg, search_msg, sizeof search_msg, &len);
  st = one_call(SEARCH, GRPC, "snappy-nonexistent", b, len);
  { int ok[] = {12, 13, 3}; check(status_in(&st, ok, 3, 0), "unsupported grpc-encoding: grpc-status %d '%s'", st.grpc_status, st.grpc_message); }
  free(b);

  /* 4. A prefix declaring 4 GiB - 1 (then END_STREAM after 5 message bytes). Above the transport's
   *    bound (twice max_message_bytes) grpc-swift resets the stream (RST_STREAM CANCEL) before
   *    any byte of it is buffered; RESOURCE_EXHAUSTED would do too. */
  n_cases++;
  b = frame(0, 0xffffffffu, search_msg, sizeof search_msg, &len);
  st = one_call(SEARCH, GRPC, NULL, b, len);
  { int ok[] = {8, 13}; check(status_in(&st, ok, 2, 1), "prefix declaring 4 GiB: grpc-status %d '%s' (close %u)", st.grpc_status, st.grpc_message, st.close_error); }
  free(b);
  fresh_normal_call("a 4 GiB prefix");

  /* 5. A prefix declaring just over twice the 64 MiB message limit (the transport's bound). */
  n_cases++;
  b = frame(0, (128u << 20) + 1, search_msg, sizeof search_msg, &len);
  st = one_call(SEARCH, GRPC, NULL, b, len);
  { int ok[] = {8, 13}; check(status_in(&st, ok, 2, 1), "prefix declaring 128 MiB + 1: grpc-status %d '%s' (close %u)", st.grpc_status, st.grpc_message, st.close_error); }
  free(b);

  /* 6. Only 3 of the 5 prefix bytes, then END_STREAM. */
  n_cases++;
  {
    static const uint8_t partial[3] = {0, 0, 0};
    st = one_call(SEARCH, GRPC, NULL, partial, 3);
    int ok[] = {13, 3, 1};
    check(status_in(&st, ok, 3, 1), "prefix cut short: grpc-status %d '%s' (close %u)", st.grpc_status, st.grpc_message, st.close_error);
  }

  /* 7. Garbage protobuf, well framed: an invalid wire type (7). */
  n_cases++;
  {
    static const uint8_t garbage[] = {0x0f, 0xff, 0xfe, 0x13, 0x37, 0x00, 0x42};
    b = frame(0, sizeof garbage, garbage, sizeof garbage, &len);
    st = one_call(SEARCH, GRPC, NULL, b, len);
    int ok[] = {3};
    check(status_in(&st, ok, 1, 0), "garbage protobuf (wire type 7): grpc-status %d '%s'", st.grpc_status, st.grpc_message);
    free(b);
  }

  /* 8. Garbage protobuf: field 1 declaring a 4 GiB length with 3 bytes present. */
  n_cases++;
  {
    static const uint8_t huge[] = {0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f, 'a', 'b', 'c'};
    b = frame(0, sizeof huge, huge, sizeof huge, &len);
    st = one_call(SEARCH, GRPC, NULL, b, len);
    int ok[] = {3};
    check(status_in(&st, ok, 1, 0), "garbage protobuf (huge field length): grpc-status %d '%s'", st.grpc_status, st.grpc_message);
    free(b);
  }

  /* 9. Random bytes as the message, on every dpq.v1 unary and client-streaming service path. */
  {
    static const char *paths[] = {
        "/dpq.v1.CollectionService/CreateCollection", "/dpq.v1.ItemService/UpsertItems",
        "/dpq.v1.ItemService/UpsertItemsStream", "/dpq.v1.TrainingService/UploadTrainingData",
        "/dpq.v1.ModelService/ImportModel", "/dpq.v1.ModelService/ExportModel", "/dpq.v1.TrainingService/WatchTraining",
    };
    uint64_t x = 0x2545f4914f6cdd1dull;
    for (size_t p = 0; p < sizeof paths / sizeof paths[0]; p++) {
      uint8_t junk[64];
      junk[0] = 0x0f; /* field 1, wire type 7: never a valid message */
      for (size_t i = 1; i < sizeof junk; i++) { x ^= x << 13; x ^= x >> 7; x ^= x << 17; junk[i] = (uint8_t)x; }
      n_cases++;
      b = frame(0, sizeof junk, junk, sizeof junk, &len);
      st = one_call(paths[p], GRPC, NULL, b, len);
      int ok[] = {3};
      check(status_in(&st, ok, 1, 0), "random bytes to %s: grpc-status %d '%s'", paths[p], st.grpc_status, st.grpc_message);
      free(b);
    }
  }

  /* 10. Unknown method. */
  n_cases++;
  {
    static const uint8_t empty[5] = {0};
    st = one_call("/dpq.v1.SearchService/NoSuchMethod", GRPC, NULL, empty, 5);
    int ok[] = {12};
    check(status_in(&st, ok, 1, 0), "unknown method: grpc-status %d '%s'", st.grpc_status, st.grpc_message);
  }

  /* 11. Wrong content-type: HTTP 415 (or a gRPC status). */
  n_cases++;
  {
    static const uint8_t empty[5] = {0};
    st = one_call(INFO, "text/plain", NULL, empty, 5);
    check(st.closed && (st.http_status == 415 || st.grpc_status > 0), "content-type text/plain: HTTP %d, grpc-status %d", st.http_status, st.grpc_status);
  }

  /* 12. Stream reset mid-message (declared 100 bytes, 5 sent, then RST_STREAM CANCEL), then a
   *     normal call on the same connection. */
  n_cases++;
  {
    Conn c;
    if (conn_open(&c, host, port) == 0) {
      b = frame(0, 100, search_msg, sizeof search_msg, &len);
      submit(&c, &st, SEARCH, GRPC, NULL, b, len, 0);
      pump(&c, NULL, 300);
      nghttp2_submit_rst_stream(c.session, NGHTTP2_FLAG_NONE, st.id, NGHTTP2_CANCEL);
      pump(&c, NULL, 300);
      check(st.grpc_status != 0, "stream reset mid-message: no OK status for the reset stream (grpc-status %d)", st.grpc_status);
      c.n_streams = 0;
      normal_call(&c, "a stream reset mid-message (same connection)");
      conn_close(&c);
      free(b);
    } else check(0, "connect for the reset case");
  }

  /* 13. Connection closed mid-message, then a normal call on a new connection. */
  n_cases++;
  {
    Conn c;
    if (conn_open(&c, host, port) == 0) {
      b = frame(0, 100, search_msg, sizeof search_msg, &len);
      submit(&c, &st, SEARCH, GRPC, NULL, b, len, 0);
      pump(&c, NULL, 300);
      conn_close(&c); /* TCP close without GOAWAY */
      free(b);
      fresh_normal_call("a connection closed mid-message");
    } else check(0, "connect for the close case");
  }

  /* 14. Connection closed half way through the 5-byte prefix of a client stream. */
  n_cases++;
  {
    Conn c;
    if (conn_open(&c, host, port) == 0) {
      static const uint8_t two[2] = {0, 0};
      submit(&c, &st, "/dpq.v1.ItemService/UpsertItemsStream", GRPC, NULL, two, 2, 0);
      pump(&c, NULL, 300);
      conn_close(&c);
      fresh_normal_call("a connection closed inside a prefix");
    } else check(0, "connect for the prefix-close case");
  }

  /* 15. GOAWAY from the client while a message is half sent. */
  n_cases++;
  {
    Conn c;
    if (conn_open(&c, host, port) == 0) {
      b = frame(0, 100, search_msg, sizeof search_msg, &len);
      submit(&c, &st, SEARCH, GRPC, NULL, b, len, 0);
      pump(&c, NULL, 300);
      nghttp2_session_terminate_session(c.session, NGHTTP2_PROTOCOL_ERROR);
      pump(&c, NULL, 300);
      conn_close(&c);
      free(b);
      fresh_normal_call("a client GOAWAY mid-message");
    } else check(0, "connect for the GOAWAY case");
  }

  /* 16. Raw bytes that are not HTTP/2 at all. */
  n_cases++;
  {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    inet_pton(AF_INET, host, &sa.sin_addr);
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0) {
      const char junk[] = "GET / HTTP/1.1\r\nHost: x\r\n\r\n\x00\x01\x02garbage";
      ssize_t sent = send(fd, junk, sizeof junk, MSG_NOSIGNAL);
      struct pollfd p = {.fd = fd, .events = POLLIN};
      char buf[512];
      ssize_t got = poll(&p, 1, 3000) > 0 ? recv(fd, buf, sizeof buf, 0) : -1;
      check(sent > 0, "non-HTTP/2 bytes sent; server replied %zd bytes or closed", got);
    } else check(0, "connect for the non-HTTP/2 case");
    close(fd);
    fresh_normal_call("non-HTTP/2 bytes");
  }

  fresh_normal_call("every case");
  printf("hostile cases: %d, checks: %d passed, %d failed\n", n_cases, n_passed, n_failed);
  return n_failed == 0 ? 0 : 1;
}
