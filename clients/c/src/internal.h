/*
 * internal.h: what the library's source files share (not installed; see include/dpq_client.h).
 *
 *   transport.c  errors, clock, the HTTP/2 connection (nghttp2 session, callbacks) and the event loop
 *   call.c       one gRPC call on a connection (any kind): start, send messages, status, received
 *                messages
 *   unary.c      unary calls, and many unary calls at once (dpq_unary_call_many)
 *   generic_streams.c  server-streaming and client-streaming calls (dpq_server_stream_call, dpq_stream_*)
 *   rpcs.c       wrappers of the unary RPCs (health, search, encode, collections, server info, training)
 *   streams.c    wrappers of the streaming RPCs (upsert stream, training upload and watch, model export
 *                and import)
 *
 * Every call, unary or streaming, is a dpq_call driven by dpq__pump: the request is queued as framed
 * messages in call->out (read by an nghttp2 data provider that defers while it is empty and not yet
 * ended), the response accumulates in call->in (length-prefixed messages, popped by dpq__call_pop).
 */
#ifndef DPQ_INTERNAL_H
#define DPQ_INTERNAL_H

#define _POSIX_C_SOURCE 200809L
#define _DEFAULT_SOURCE

#include <nghttp2/nghttp2.h>
#include <protobuf-c/protobuf-c.h>
#include <stddef.h>
#include <stdint.h>

#include "dpq_client.h"

#define DPQ_DEFAULT_TIMEOUT_MS 30000
#define DPQ_MAX_RESPONSE_BYTES (64u * 1024u * 1024u) /* refuse larger response messages */
#define DPQ_STREAM_WINDOW (1 << 20)                  /* per-stream receive window */
#define DPQ_CONNECTION_WINDOW (16 << 20)             /* connection receive window */
#define DPQ_USER_AGENT "dpq-c/0.2 nghttp2/" NGHTTP2_VERSION

typedef struct dpq_call dpq_call;

/* One gRPC call (one HTTP/2 stream). Zero it (dpq__call_init), dpq__call_start it, write messages,
 * pump, read its status and messages, dpq__call_release it. */
struct dpq_call {
  dpq_client *client;
  dpq_call *prev, *next; /* in client->calls from start to release */
  const char *path;      /* not owned: must outlive the call */
  unsigned conn_id;      /* the connection the stream is on (client->conn_id when it started) */
  int64_t deadline;
  int32_t stream_id; /* > 0 once submitted */
  int reused;        /* started on a connection that had already completed calls */
  int auto_consume;  /* give received bytes back to flow control at once (unary calls) */
  /* request: framed messages not yet taken by nghttp2 */
  uint8_t *out;
  size_t out_len, out_off, out_cap;
  int out_eof;  /* no more messages: END_STREAM once out is drained */
  int deferred; /* the data provider is deferred (resume it when out gets data) */
  /* response: raw length-prefixed messages from in_off to in_len */
  uint8_t *in;
  size_t in_len, in_off, in_cap;
  size_t unconsumed; /* received bytes not yet returned to the flow-control windows */
  int too_big;
  int http_status;
  int headers_seen;
  int have_grpc_status;
  int grpc_status;
  char *grpc_message; /* raw (percent-encoded) */
  int grpc_content_type;
  /* end */
  int remote_done; /* the server ended its side (END_STREAM): the call is over, whatever we still send */
  int closed;
  uint32_t close_error; /* HTTP/2 error code of a reset, 0 for a normal close */
  int lost;             /* the connection went away before the stream closed */
  int lost_proto;       /* ... because of this nghttp2 error (0: I/O error, EOF, or dropped) */
  int lost_eof;         /* ... because the peer closed it */
};

/* One server of a client's list (addresses.c). */
typedef struct dpq_address {
  char *host;
  int port;
} dpq_address;

struct dpq_client {
  dpq_address *addrs; /* the servers, at least one */
  int n_addrs;
  int current;        /* index in addrs of host/port/authority */
  char *host;         /* addrs[current].host (not owned) */
  int port;
  int timeout_ms;
  char authority[300];
  int fd; /* -1 when not connected */
  unsigned conn_id; /* counts connections: tells a call whether its stream is on the current one */
  nghttp2_session *session;
  int goaway;     /* the server sent GOAWAY: start no new streams on this connection */
  int io_error;   /* send/recv failed or EOF */
  int calls_done; /* calls completed on this connection */
  dpq_call *calls; /* calls started and not yet released (live on this connection or lost) */
};

/* addresses.c ------------------------------------------------------------------------------- */

/* Parses "host:port,host:port,[v6]:port" into *out (n entries; free with dpq__free_addresses). */
int dpq__parse_addresses(const char *list, dpq_address **out, int *n, dpq_error *err);
void dpq__free_addresses(dpq_address *a, int n);
/* Makes addrs[i] the server the next connection goes to. */
void dpq__use_address(dpq_client *c, int i);
/* 1 when a call of this method may be repeated without changing its outcome. */
int dpq__idempotent(const char *path);
/* A client of the servers a (taking ownership), connected starting at a[start]; NULL on failure. */
dpq_client *dpq__connect_list(dpq_address *a, int n, int start, int timeout_ms, dpq_error *err);

/* transport.c ------------------------------------------------------------------------------- */

#if defined(__GNUC__)
__attribute__((format(printf, 3, 4)))
#endif
int dpq__set_err(dpq_error *err, int code, const char *fmt, ...);
void dpq__clear_err(dpq_error *err);
int64_t dpq__now_ms(void);
int dpq__remaining_ms(int64_t deadline);

/* Makes sure c has a usable connection (reconnecting if needed), bounded by deadline. */
int dpq__ensure_connected(dpq_client *c, int64_t deadline, dpq_error *err);
/* Closes the connection (GOAWAY first when polite); calls still on it are marked lost. */
void dpq__disconnect(dpq_client *c, int polite);

enum { DPQ_PUMP_DONE = 0, DPQ_PUMP_TIMEOUT = 1, DPQ_PUMP_FAILED = 2 };
/* Runs the connection (sends what nghttp2 has, reads and processes what arrives) until done(arg)
 * is true (DONE), the deadline passes (TIMEOUT) or the connection fails (FAILED: it is then closed
 * and its calls are lost). With done == NULL it never is: a deadline of now processes what can be
 * sent and what has arrived without waiting. */
int dpq__pump(dpq_client *c, int (*done)(void *arg), void *arg, int64_t deadline);

/* call.c, unary.c, generic_streams.c ------------------------------------------------------------ */

void dpq__call_init(dpq_call *k);
/* Connects if needed and submits the request HEADERS of `path` (grpc-timeout from deadline). */
int dpq__call_start(dpq_client *c, dpq_call *k, const char *path, int64_t deadline, dpq_error *err);
/* Queues one message (serialized, or packed from `msg` when it is not NULL); `last` ends the request. */
int dpq__call_write(dpq_call *k, const uint8_t *data, size_t len, int last, dpq_error *err);
int dpq__call_write_msg(dpq_call *k, const ProtobufCMessage *msg, int last, dpq_error *err);
/* Ends the request (END_STREAM after the queued messages). */
void dpq__call_end_input(dpq_call *k);
/* The call's stream is on the client's current connection and may still get frames. */
int dpq__call_live(const dpq_call *k);
/* The call is over: the server ended it (trailers), the stream was reset, or its connection lost. */
int dpq__call_finished(const dpq_call *k);
/* A complete response message is waiting. */
int dpq__call_has_message(const dpq_call *k);
/* Pops the next response message: returns DPQ_OK with *msg set (valid until the next pop or pump),
 * DPQ_OK with *msg NULL when none is complete, or an error (compressed message, oversize). */
int dpq__call_pop(dpq_call *k, const uint8_t **msg, size_t *len, dpq_error *err);
/* dpq__call_finished for dpq__pump. */
int dpq__call_finished_cb(void *call);
/* The single response message of a finished call whose status is OK, copied to *response (malloc'd). */
int dpq__call_take_single(dpq_call *k, uint8_t **response, size_t *response_len, dpq_error *err);
enum { DPQ__RETRY = -1 };
/* Status of a finished call: the server's grpc-status and message, or the local failure. Returns
 * DPQ__RETRY instead when may_retry and the request provably never reached the server's
 * application on a reused connection. */
int dpq__call_status(dpq_call *k, int may_retry, dpq_error *err);
/* The deadline passed: resets the stream, drops the connection, returns DEADLINE_EXCEEDED. */
int dpq__call_deadline(dpq_call *k, dpq_error *err);
/* Resets the stream with CANCEL (if it is still open) and sends it. */
void dpq__call_cancel(dpq_call *k);
/* Detaches the call from its connection (resetting its stream with CANCEL if our side is still open,
 * e.g. after the server ended a client stream early) and frees its buffers. A completed call counts toward the
 * connection's reuse; a draining (GOAWAY) connection is closed once no call is left on it. */
void dpq__call_release(dpq_call *k);

/* Packs `req`, runs the unary call `path`, unpacks the response with `desc` (free *out with
 * protobuf_c_message_free_unpacked). */
int dpq__call_msg(dpq_client *c, const char *path, const ProtobufCMessage *req,
                  const ProtobufCMessageDescriptor *desc, ProtobufCMessage **out, dpq_error *err);

/* Server-streaming call: sends `req`, then hands each response message to on_msg (outside nghttp2's
 * callbacks, so it may call the client again); on_msg returns DPQ_OK to go on, or a status that
 * cancels the call (RST_STREAM CANCEL) and is returned. */
int dpq__server_stream(dpq_client *c, const char *path, const ProtobufCMessage *req, const uint8_t *raw,
                       size_t raw_len, int (*on_msg)(void *arg, const uint8_t *msg, size_t len, dpq_error *err),
                       void *arg, dpq_error *err);

/* Client-streaming handles (shared by dpq_stream_* and the typed streams in streams.c). */
enum { DPQ_STREAM_RAW = 0, DPQ_STREAM_UPSERT, DPQ_STREAM_UPLOAD };
struct dpq_stream {
  dpq_client *client;
  dpq_call call;
  int kind;
  char *path;
  int failed;       /* status of an earlier failure, repeated by later sends and finish */
  dpq_error failure;
  uint64_t messages; /* messages sent */
  char *collection, *dataset; /* typed streams: names for the first message */
  char *model_sha256;         /* upserts of codes: sent with every batch */
  int mode;
};
int dpq__stream_open(dpq_client *c, const char *path, int kind, dpq_stream **out, dpq_error *err);
/* Sends one message (packed from msg, or the serialized data): waits until nghttp2 has taken it
 * (flow control), then picks up an early end of the call. */
int dpq__stream_send(dpq_stream *s, const ProtobufCMessage *msg, const uint8_t *data, size_t len,
                     dpq_error *err);
/* Ends the request, waits for the response and unpacks it with desc (or returns it serialized in
 * *raw / *raw_len when desc is NULL). Frees s. */
int dpq__stream_finish(dpq_stream *s, const ProtobufCMessageDescriptor *desc, ProtobufCMessage **out,
                       uint8_t **raw, size_t *raw_len, dpq_error *err);

char *dpq__strdup(const char *s); /* strdup(s ? s : "") */
void dpq__copy_str(char *dst, size_t size, const char *src);

#endif
