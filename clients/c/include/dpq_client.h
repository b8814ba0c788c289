/*
 * dpq_client.h: a small C client for the DPQ similarity-search service (gRPC API dpq.v1).
 *
 * Transport: gRPC over plaintext HTTP/2 with prior knowledge (libnghttp2), messages encoded with
 * libprotobuf-c (code generated from proto/dpq/v1 into clients/c/gen). Unary, client-streaming and
 * server-streaming RPCs; many concurrent calls on the one connection with dpq_unary_call_many.
 *
 * Conventions
 *  - Every call returns 0 (DPQ_OK) on success or a gRPC status code (> 0) on failure; the same code
 *    and a human-readable message are stored in *err when err is not NULL. Server errors carry the
 *    server's grpc-status and (percent-decoded) grpc-message; local failures use the gRPC code that
 *    fits (UNAVAILABLE: cannot connect / connection lost, DEADLINE_EXCEEDED: local deadline passed,
 *    INTERNAL: malformed response, INVALID_ARGUMENT: bad arguments to this library, ...).
 *  - A client holds one HTTP/2 connection, opened by dpq_connect and reused for every call. If the
 *    connection breaks (server restart, GOAWAY, a call that timed out), the next call reconnects.
 *  - Each call has a deadline: the client's timeout (dpq_connect / dpq_set_timeout). It is sent to the
 *    server as the grpc-timeout header and enforced locally with poll().
 *  - Streaming calls follow the same rules: one deadline for the whole call (the client's timeout
 *    when the call starts), the status and message of the server, flow control (a send waits until
 *    the server's HTTP/2 window takes the message: nothing is buffered beyond the message being
 *    sent; a server stream is read only as fast as its callback returns).
 *  - A dpq_client is not thread-safe: use one per thread, or serialise calls. Within one thread, a
 *    callback or an open stream may make other calls on the same client (they share the connection);
 *    a deadline or a broken connection in one of them ends the others with UNAVAILABLE.
 *  - Output structs are owned by the caller once filled; release them with the matching *_free
 *    function (safe on a zeroed struct and idempotent). On failure they are left zeroed.
 */
#ifndef DPQ_CLIENT_H
#define DPQ_CLIENT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

/* gRPC status codes (https://grpc.github.io/grpc/core/md_doc_statuscodes.html). */
enum {
  DPQ_OK = 0,
  DPQ_CANCELLED = 1,
  DPQ_UNKNOWN = 2,
  DPQ_INVALID_ARGUMENT = 3,
  DPQ_DEADLINE_EXCEEDED = 4,
  DPQ_NOT_FOUND = 5,
  DPQ_ALREADY_EXISTS = 6,
  DPQ_PERMISSION_DENIED = 7,
  DPQ_RESOURCE_EXHAUSTED = 8,
  DPQ_FAILED_PRECONDITION = 9,
  DPQ_ABORTED = 10,
  DPQ_OUT_OF_RANGE = 11,
  DPQ_UNIMPLEMENTED = 12,
  DPQ_INTERNAL = 13,
  DPQ_UNAVAILABLE = 14,
  DPQ_DATA_LOSS = 15,
  DPQ_UNAUTHENTICATED = 16
};

/* Error details of a failed call. */
typedef struct dpq_error {
  int code;          /* gRPC status code; DPQ_OK when the call succeeded */
  char message[512]; /* grpc-message (percent-decoded) or a local description; "" on success */
} dpq_error;

/* Name of a status code, e.g. "INVALID_ARGUMENT"; "UNKNOWN_CODE" for values out of range. */
const char *dpq_status_name(int code);

typedef struct dpq_client dpq_client;

/* Connects to host:port (name or numeric address, IPv4 or IPv6). timeout_ms bounds the connection
 * attempt and is the default deadline of every call (<= 0 means 30000 ms). Returns NULL on failure,
 * with err->code UNAVAILABLE (or DEADLINE_EXCEEDED when the connection attempt timed out). */
dpq_client *dpq_connect(const char *host, int port, int timeout_ms, dpq_error *err);

/* Connects to one of several servers sharing one store (dpq serve --store postgres://...): `addresses`
 * is "host:port,host:port,..." ([addr]:port for IPv6 literals). Each new client starts at the next
 * address of the list (so clients made one per thread are spread round robin over the servers) and
 * keeps one connection; when its server cannot be reached it connects to the next. Unary calls that
 * may be repeated without changing their outcome (searches, Evaluate, reads, counts, health, server
 * info, Encode/Decode, UpsertItems and DeleteItems) and end UNAVAILABLE are sent again once to each
 * other server within the deadline; other calls and streams are not repeated. Bad lists are
 * INVALID_ARGUMENT naming the entry. */
dpq_client *dpq_connect_any(const char *addresses, int timeout_ms, dpq_error *err);

/* The server the client talks to now, "host:port". */
const char *dpq_current_address(const dpq_client *client);

/* Changes the deadline of later calls, in milliseconds (> 0). */
void dpq_set_timeout(dpq_client *client, int timeout_ms);

/* Closes the connection (politely, with GOAWAY) and frees the client. NULL is a no-op. */
void dpq_close(dpq_client *client);

/* ------------------------------------------------------------------------------------------ */
/* Health: grpc.health.v1.Health/Check                                                         */

enum {
  DPQ_HEALTH_UNKNOWN = 0,
  DPQ_HEALTH_SERVING = 1,
  DPQ_HEALTH_NOT_SERVING = 2,
  DPQ_HEALTH_SERVICE_UNKNOWN = 3
};

/* Checks the serving status of `service` ("" or NULL = the whole server). *serving_status receives a
 * DPQ_HEALTH_* value. An unknown service is NOT_FOUND (from the server). */
int dpq_health(dpq_client *client, const char *service, int *serving_status, dpq_error *err);

/* ------------------------------------------------------------------------------------------ */
/* Search: dpq.v1.SearchService/Search                                                         */

enum { DPQ_METRIC_UNSPECIFIED = 0, DPQ_METRIC_INNER_PRODUCT = 1, DPQ_METRIC_SQUARED_L2 = 2 };

/* An item id: numeric (str == NULL) or string (str != NULL, NUL-terminated). */
typedef struct dpq_item_id {
  int is_str;   /* 1 for a string id */
  uint64_t num; /* the numeric id when !is_str */
  char *str;    /* the string id when is_str, else NULL */
} dpq_item_id;

typedef struct dpq_hit {
  dpq_item_id id;
  float score; /* SQUARED_L2: smaller is better; INNER_PRODUCT: larger is better */
  uint32_t *labels;
  size_t n_labels;
} dpq_hit;

typedef struct dpq_query_result {
  dpq_hit *hits; /* best first */
  size_t n_hits;
} dpq_query_result;

typedef struct dpq_search_result {
  dpq_query_result *queries; /* one per query, in query order */
  size_t n_queries;
  uint32_t bits;           /* code length used (resolves 0) */
  int metric;              /* DPQ_METRIC_* used */
  uint64_t searched_items; /* encoded items eligible per query (after filtering) */
  uint32_t nprobe;         /* inverted lists scanned per query; 0 = every item was scanned */
} dpq_search_result;

/* Optional search parameters; pass NULL for the defaults (all zero). */
typedef struct dpq_search_options {
  int metric;                /* DPQ_METRIC_*; 0 = the collection's metric */
  const uint32_t *any_label; /* only items carrying one of these labels; NULL/0 = no filter */
  size_t n_any_label;
  uint32_t rescore_oversampling; /* > 0: re-score k * this candidates with stored originals */
  int omit_labels;               /* 1: leave dpq_hit.labels empty */
  uint32_t nprobe;               /* > 0: scan only this many of the collection's inverted lists */
} dpq_search_options;

/* Runs n_queries queries (row-major, n_queries * dim floats) against `collection` and returns the k
 * best items per query at a code length of `bits` (0 = the full code). */
int dpq_search(dpq_client *client, const char *collection, const float *queries, size_t n_queries,
               size_t dim, uint32_t k, uint32_t bits, dpq_search_result *out, dpq_error *err);

/* Same, with options (may be NULL). */
int dpq_search_ex(dpq_client *client, const char *collection, const float *queries, size_t n_queries,
                  size_t dim, uint32_t k, uint32_t bits, const dpq_search_options *opts,
                  dpq_search_result *out, dpq_error *err);

/* Same, with 8-bit queries (n_queries * dim bytes, e.g. pixels) sent as bytes: byte b means the value b. */
int dpq_search_u8(dpq_client *client, const char *collection, const uint8_t *queries, size_t n_queries,
                  size_t dim, uint32_t k, uint32_t bits, const dpq_search_options *opts,
                  dpq_search_result *out, dpq_error *err);

void dpq_search_result_free(dpq_search_result *result);

/* ------------------------------------------------------------------------------------------ */
/* Encode: dpq.v1.ModelService/Encode                                                          */

typedef struct dpq_encode_result {
  uint32_t bits;           /* code length used (resolves 0) */
  uint32_t bytes_per_code; /* bytes per code word: 1 when K <= 256, else 2 (little-endian) */
  size_t n_codes;          /* one per input row */
  size_t code_bytes;       /* bytes of each code = (bits / log2 K) * bytes_per_code */
  uint8_t *codes;          /* n_codes * code_bytes bytes; code i starts at codes + i * code_bytes */
  char model_sha256[65];   /* the model that computed them (hex): for dpq_upsert_codes_stream_open */
} dpq_encode_result;

/* Encodes n_vectors vectors (row-major, n_vectors * dim floats) into codes of `bits` bits
 * (0 = the full code). */
int dpq_encode(dpq_client *client, const char *collection, const float *vectors, size_t n_vectors,
               size_t dim, uint32_t bits, dpq_encode_result *out, dpq_error *err);

void dpq_encode_result_free(dpq_encode_result *result);

/* ------------------------------------------------------------------------------------------ */
/* Collections and server info                                                                 */

enum {
  DPQ_COLLECTION_UNSPECIFIED = 0,
  DPQ_COLLECTION_UNTRAINED = 1,
  DPQ_COLLECTION_TRAINING = 2,
  DPQ_COLLECTION_READY = 3,
  DPQ_COLLECTION_FAILED = 4
};

/* A summary of dpq.v1.CollectionInfo. Model fields are 0 when has_model is 0. */
typedef struct dpq_collection_info {
  char *name;
  uint32_t input_dimension;
  int metric;    /* default metric, DPQ_METRIC_* */
  int state;     /* DPQ_COLLECTION_* */
  int has_model; /* 1 when Search/Encode work */
  uint64_t item_count;
  uint64_t pending_items;
  uint32_t num_classes;
  uint32_t quantized_dimension; /* from the model */
  uint32_t blocks;              /* M */
  uint32_t codebook_size;       /* K */
  uint32_t bits_per_block;      /* log2 K */
  uint32_t max_bits;            /* M * log2 K */
  uint32_t bytes_per_code;
  char *last_error;     /* "" if none */
  uint32_t index_lists; /* inverted lists a search with nprobe scans among; 0 = none yet */
  int index_lists_building; /* 1 while lists for the grown collection are built (searches use the current ones) */
} dpq_collection_info;

int dpq_get_collection(dpq_client *client, const char *name, dpq_collection_info *out, dpq_error *err);
void dpq_collection_info_free(dpq_collection_info *info);

/* A summary of dpq.v1.GetServerInfoResponse. */
typedef struct dpq_server_info {
  char *version;
  char *build_commit;
  char *api_version; /* "dpq.v1" */
  char **services;   /* fully-qualified service names */
  size_t n_services;
  uint32_t threads;
  uint32_t max_message_bytes;
  uint32_t max_batch_rows;
  uint32_t max_search_queries;
  uint32_t max_k;
  uint32_t max_input_dimension;
} dpq_server_info;

int dpq_get_server_info(dpq_client *client, dpq_server_info *out, dpq_error *err);
void dpq_server_info_free(dpq_server_info *info);

/* ------------------------------------------------------------------------------------------ */
/* Generic unary call, for RPCs without a wrapper above.                                      */

/* Sends one serialized request message (without the 5-byte gRPC prefix) to `path`
 * (e.g. "/dpq.v1.ItemService/CountItems") and returns the serialized response message in
 * *response (malloc'd, free() it; may be NULL with *response_len 0 for an empty message). */
int dpq_unary_call(dpq_client *client, const char *path, const uint8_t *request, size_t request_len,
                   uint8_t **response, size_t *response_len, dpq_error *err);

/* ------------------------------------------------------------------------------------------ */
/* Many unary calls at once on the one connection                                               */

/* One call of a batch: fill path / request / request_len; the rest is output. */
typedef struct dpq_batch_call {
  const char *path;       /* e.g. "/dpq.v1.SearchService/Search" */
  const uint8_t *request; /* serialized request message (may be NULL when request_len is 0) */
  size_t request_len;
  int status;             /* output: DPQ_OK or the call's gRPC status */
  dpq_error error;        /* output: the call's status and message */
  uint8_t *response;      /* output: serialized response (malloc'd; dpq_batch_call_free) */
  size_t response_len;
} dpq_batch_call;

/* Runs n unary calls concurrently, one HTTP/2 stream each, on the client's connection (nghttp2 keeps
 * at most the server's SETTINGS_MAX_CONCURRENT_STREAMS open and queues the rest). All share one
 * deadline, the client's timeout. Calls refused before they reached the server (REFUSED_STREAM, a
 * GOAWAY, a stale connection) are sent again, at most twice. Every call gets its own status; the
 * return value is DPQ_OK when all succeeded, else the status of the first failed call (in *err). */
int dpq_unary_call_many(dpq_client *client, dpq_batch_call *calls, size_t n, dpq_error *err);

/* Frees the responses of a batch (safe after a failed or partial run). */
void dpq_batch_call_free(dpq_batch_call *calls, size_t n);

#ifdef __cplusplus
}
#endif

/* The streaming calls (UpsertItemsStream, UploadTrainingData, WatchTraining, ExportModel,
 * ImportModel, and the generic stream API under them) are declared in dpq_streams.h. */
#include "dpq_streams.h"

#endif /* DPQ_CLIENT_H */
