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

/* ------------------------------------------------------------------------------------------ */
/* Streaming calls: generic                                                                     */

/* An open client-streaming call (UpsertItemsStream, UploadTrainingData, or any other through
 * dpq_stream_open). Ended by its finish function (which waits for the response) or by
 * dpq_stream_cancel; both free it. */
typedef struct dpq_stream dpq_stream;

/* Opens a client-streaming call to `path` (sends its HEADERS). Its deadline starts now. */
int dpq_stream_open(dpq_client *client, const char *path, dpq_stream **out, dpq_error *err);

/* Sends one serialized message. Returns when the message is handed to the connection (waiting for
 * the server's flow-control window if needed). When the server has already ended the call with an
 * error, returns that status and message; so do later sends and the finish. */
int dpq_stream_send(dpq_stream *stream, const uint8_t *message, size_t len, dpq_error *err);

/* Ends the request stream, waits for the server's response and returns it serialized in *response
 * (malloc'd, free() it). Frees the stream, whatever the outcome. */
int dpq_stream_finish(dpq_stream *stream, uint8_t **response, size_t *response_len, dpq_error *err);

/* Cancels the call (RST_STREAM CANCEL; the server sees CANCELLED) and frees the stream. NULL is a
 * no-op. What a cancelled upload had applied is documented per RPC. */
void dpq_stream_cancel(dpq_stream *stream);

/* Receives one serialized message of a server stream. Return 0 to go on, nonzero to cancel the call
 * (RST_STREAM CANCEL; the call then returns DPQ_CANCELLED). Called outside the HTTP/2 machinery: it
 * may make other calls on the same client. */
typedef int (*dpq_message_fn)(const uint8_t *message, size_t len, void *user);

/* Server-streaming call: sends one serialized request to `path` and hands every response message
 * to on_message, in order, until the server ends the call. */
int dpq_server_stream_call(dpq_client *client, const char *path, const uint8_t *request, size_t request_len,
                           dpq_message_fn on_message, void *user, dpq_error *err);

/* ------------------------------------------------------------------------------------------ */
/* Items: dpq.v1.ItemService/UpsertItemsStream                                                 */

/* An item to upsert. */
typedef struct dpq_item {
  dpq_item_id id;         /* numeric (is_str 0, num) or string (is_str 1, str); str is only read */
  const float *vector;    /* `dim` floats, dim as given with the batch */
  const uint32_t *labels; /* may be NULL when n_labels is 0 */
  size_t n_labels;
  const uint8_t *pixels;  /* instead of vector (which may then be NULL): `dim` 8-bit values, sent as bytes
                           * (a quarter of the floats' size); byte b means the value b */
} dpq_item;

typedef struct dpq_upsert_result {
  uint64_t inserted;   /* items that did not exist before */
  uint64_t replaced;   /* items that replaced one with the same id */
  uint64_t encoded;    /* of those, encoded now (the rest wait for a model) */
  uint64_t item_count; /* collection size afterwards */
} dpq_upsert_result;

/* Opens an UpsertItemsStream call to `collection`. The server validates and applies each batch as it
 * arrives: after an error or a cancel, the batches before it stay applied (upserts are idempotent). */
int dpq_upsert_stream_open(dpq_client *client, const char *collection, dpq_stream **out, dpq_error *err);

/* Sends one batch of n_items items with vectors of `dim` floats (1..max_batch_rows items). A batch
 * the server rejects (INVALID_ARGUMENT naming the first bad item, RESOURCE_EXHAUSTED, NOT_FOUND)
 * ends the call: this send or a later one, or the finish, returns the server's status. */
int dpq_upsert_stream_send(dpq_stream *stream, const dpq_item *items, size_t n_items, size_t dim, dpq_error *err);

/* Ends the stream and returns the counts for the whole stream (out may be NULL). Frees the stream. */
int dpq_upsert_stream_finish(dpq_stream *stream, dpq_upsert_result *out, dpq_error *err);

/* ------------------------------------------------------------------------------------------ */
/* Training: UploadTrainingData, StartTraining, WatchTraining, CancelTraining                  */

enum { DPQ_UPLOAD_REPLACE = 1, DPQ_UPLOAD_APPEND = 2, DPQ_UPLOAD_CREATE = 3 };

/* Labels of the rows of one chunk: either one class per row (class_ids, n_rows entries), or any
 * number per row in CSR form (row r has labels[offsets[r] .. offsets[r + 1] - 1], n_rows + 1
 * offsets). */
typedef struct dpq_row_labels {
  const uint32_t *class_ids;
  const uint32_t *labels;
  const size_t *offsets;
} dpq_row_labels;

typedef struct dpq_upload_result {
  uint64_t chunks_received;
  uint64_t rows_received;
  uint64_t dataset_rows; /* rows in the dataset afterwards (more than rows_received with APPEND) */
} dpq_upload_result;

/* Opens an UploadTrainingData call into dataset `dataset` ("" or NULL = "default") of `collection`,
 * with mode DPQ_UPLOAD_* (0 = REPLACE). Atomic: the dataset changes only when finish succeeds. */
int dpq_upload_training_open(dpq_client *client, const char *collection, const char *dataset, int mode,
                             dpq_stream **out, dpq_error *err);

/* Sends one chunk of n_rows rows of `dim` floats (row-major) with their labels (NULL = none; needed
 * for SINGLE/MULTI collections). At most max_batch_rows rows and max_message_bytes per chunk. */
int dpq_upload_training_send(dpq_stream *stream, const float *vectors, size_t n_rows, size_t dim,
                             const dpq_row_labels *labels, dpq_error *err);

/* Ends the upload and returns the server's counts (out may be NULL). Frees the stream. */
int dpq_upload_training_finish(dpq_stream *stream, dpq_upload_result *out, dpq_error *err);

/* Per-job overrides of the collection's training defaults: a field is sent only when its has_ flag
 * is set (a zeroed struct, or NULL, inherits everything). */
typedef struct dpq_training_options {
  int has_pretrain_epochs;
  uint32_t pretrain_epochs;
  int has_epochs;
  uint32_t epochs;
  int has_batch_size;
  uint32_t batch_size;
  int has_learning_rate;
  float learning_rate;
  int has_seed;
  uint64_t seed;
  int has_threads;
  uint32_t threads;
} dpq_training_options;

typedef struct dpq_training_job {
  char job_id[64];
  uint64_t training_rows;
} dpq_training_job;

/* Starts training `collection` on the uploaded dataset `dataset` (NULL = the collection's stored
 * items) in the background. job (may be NULL) receives the job id for dpq_watch_training. */
int dpq_start_training(dpq_client *client, const char *collection, const char *dataset,
                       const dpq_training_options *options, dpq_training_job *job, dpq_error *err);

enum {
  DPQ_TRAINING_PENDING = 1,
  DPQ_TRAINING_RUNNING = 2,
  DPQ_TRAINING_SUCCEEDED = 3, /* terminal */
  DPQ_TRAINING_FAILED = 4,    /* terminal; see error */
  DPQ_TRAINING_CANCELLED = 5  /* terminal */
};

/* A snapshot of a training job (dpq.v1.TrainingProgress; phase is a dpq.v1.TrainingPhase value). */
typedef struct dpq_training_progress {
  char job_id[64];
  char collection[72];
  int state; /* DPQ_TRAINING_* */
  int phase; /* 1 PREPARING, 2 CLASSIFICATION, 3 CODEBOOK_INIT, 4 JOINT, 5 CODEBOOKS, 6 ENCODING, 7 DONE */
  uint32_t epoch, epochs; /* epoch is 1-based; 0 before the first */
  uint64_t step, total_steps;
  float loss_total;          /* weighted objective of the current (or last) epoch */
  float loss_classification; /* its classification term */
  float percent;             /* 0..100 */
  float eta_seconds;         /* -1 unknown, 0 once ended */
  float elapsed_seconds;
  float samples_per_second;
  uint64_t training_rows;
  char error[512]; /* the cause when state is FAILED */
} dpq_training_progress;

/* Receives each update of a watched job. Return 0 to go on, nonzero to stop watching (the call is
 * cancelled with RST_STREAM CANCEL and returns DPQ_CANCELLED; the job itself goes on). */
typedef int (*dpq_training_fn)(const dpq_training_progress *progress, void *user);

/* Watches a training job (job_id, or else the current or latest job of `collection`): on_update
 * (may be NULL) gets the current snapshot at once, then an update per epoch, phase change and at
 * most every min_interval_ms (0 = 1000); returns DPQ_OK after the final update (a terminal state),
 * copied to *last when last is not NULL. The client's timeout bounds the whole watch: raise it with
 * dpq_set_timeout for long jobs. */
int dpq_watch_training(dpq_client *client, const char *job_id, const char *collection, uint32_t min_interval_ms,
                       dpq_training_fn on_update, void *user, dpq_training_progress *last, dpq_error *err);

/* Asks a running job (job_id, or else the running job of `collection`) to stop; *out (may be NULL)
 * receives its snapshot (CANCELLED, or still RUNNING if it did not stop within 5 seconds). */
int dpq_cancel_training(dpq_client *client, const char *job_id, const char *collection, dpq_training_progress *out,
                        dpq_error *err);

/* ------------------------------------------------------------------------------------------ */
/* Models: dpq.v1.ModelService/ExportModel and ImportModel (safetensors files)                  */

typedef struct dpq_model_header {
  char format[16];      /* "safetensors" */
  uint64_t total_bytes; /* size of the file */
  char sha256[65];      /* hex SHA-256 of the file */
  uint32_t input_dimension;
  uint32_t blocks;        /* M */
  uint32_t codebook_size; /* K */
  uint32_t max_bits;
  uint32_t bytes_per_code;
} dpq_model_header;

/* Receives the next bytes of an exported file. Return 0 to go on, nonzero to cancel the export. */
typedef int (*dpq_write_fn)(const uint8_t *data, size_t len, void *user);

/* Exports the model of `collection`, chunk by chunk (chunk_bytes per message, 0 = 1 MiB), to write().
 * *header (may be NULL) is filled from the first message, before the first write. The client checks
 * that the chunks are contiguous and add up to header.total_bytes (DATA_LOSS otherwise). */
int dpq_export_model(dpq_client *client, const char *collection, uint32_t chunk_bytes, dpq_write_fn write,
                     void *user, dpq_model_header *header, dpq_error *err);

/* Same, written to f (DPQ_INTERNAL when a write fails). */
int dpq_export_model_file(dpq_client *client, const char *collection, FILE *f, dpq_model_header *header,
                          dpq_error *err);

/* Fills buf with up to cap next bytes of the file to import; returns how many (0 at the end of the
 * file), or < 0 to cancel the import. */
typedef ptrdiff_t (*dpq_read_fn)(uint8_t *buf, size_t cap, void *user);

typedef struct dpq_import_options {
  int create_if_missing; /* create the collection from the file's configuration */
  int keep_vectors;      /* of a created collection */
  int metric;            /* of a created collection: DPQ_METRIC_*, 0 = the file's */
  uint64_t total_bytes;  /* 0, or the file size the server must receive */
  const char *sha256;    /* NULL, or the hex SHA-256 the server must verify */
  uint32_t chunk_bytes;  /* bytes per message, 0 = 1 MiB */
} dpq_import_options;

typedef struct dpq_import_result {
  int created;             /* the import created the collection */
  uint64_t bytes_received;
  uint64_t items_encoded;  /* stored items re-encoded with the model */
  char sha256[65];
  uint32_t blocks, codebook_size, max_bits;
} dpq_import_result;

/* Imports a model file into `collection`, streaming it from read() one chunk at a time (only one
 * chunk is in memory). Atomic on the server: nothing changes unless the whole file arrives and
 * loads. options and out may be NULL. */
int dpq_import_model(dpq_client *client, const char *collection, dpq_read_fn read, void *user,
                     const dpq_import_options *options, dpq_import_result *out, dpq_error *err);

/* Same, from a buffer in memory, or from f (read to its end). */
int dpq_import_model_buffer(dpq_client *client, const char *collection, const uint8_t *data, size_t len,
                            const dpq_import_options *options, dpq_import_result *out, dpq_error *err);
int dpq_import_model_file(dpq_client *client, const char *collection, FILE *f, const dpq_import_options *options,
                          dpq_import_result *out, dpq_error *err);

#ifdef __cplusplus
}
#endif

#endif /* DPQ_CLIENT_H */
