/* The C client's streaming calls, part of the API of dpq_client.h (which includes this file; include
 * that one): the generic client- and server-streaming calls, and on them UpsertItemsStream,
 * UploadTrainingData, WatchTraining, ExportModel and ImportModel, with the same error and deadline
 * handling as the unary calls. */
#ifndef DPQ_STREAMS_H
#define DPQ_STREAMS_H

#include "dpq_client.h"

#ifdef __cplusplus
extern "C" {
#endif

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
  const uint8_t *code;    /* instead of vector and pixels: a code computed elsewhere with the collection's
                           * model (dpq_encode, code_bytes long), stored and indexed as it is; only in a
                           * stream from dpq_upsert_codes_stream_open */
  size_t code_len;
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

/* Opens an UpsertItemsStream of pre-computed codes (dpq_item.code) to `collection`: codes made by
 * dpq_encode (here or on another server) with the model whose sha256 is `model_sha256`
 * (dpq_encode_result.model_sha256, 64 hex digits). The server takes them only while the collection
 * serves that model (else FAILED_PRECONDITION) and keeps no vectors (keep_vectors false); a code of the
 * wrong length or with a code word >= K is INVALID_ARGUMENT naming the item. Items with vectors may be
 * mixed in. */
int dpq_upsert_codes_stream_open(dpq_client *client, const char *collection, const char *model_sha256,
                                 dpq_stream **out, dpq_error *err);

/* Sends one batch of n_items items with vectors of `dim` floats (1..max_batch_rows items). A batch
 * the server rejects (INVALID_ARGUMENT naming the first bad item, RESOURCE_EXHAUSTED, NOT_FOUND)
 * ends the call: this send or a later one, or the finish, returns the server's status. */
int dpq_upsert_stream_send(dpq_stream *stream, const dpq_item *items, size_t n_items, size_t dim, dpq_error *err);

/* A batch as columns (dpq.v1.ItemColumns): item i is entry i of every array. The compact form for
 * bulk loads: a few arrays on the wire instead of a message per item (the server takes it several
 * times faster). Give one id array, and one of vectors, pixels and codes (codes only in a stream
 * from dpq_upsert_codes_stream_open). */
typedef struct dpq_item_columns {
  size_t n;                      /* items */
  const uint64_t *numeric_ids;   /* n ids; or NULL and string_ids */
  const char *const *string_ids; /* n NUL-terminated ids; or NULL and numeric_ids */
  const float *vectors;          /* n * dim floats */
  const uint8_t *pixels;         /* or n * dim 8-bit values (a quarter of the bytes) */
  size_t dim;
  const uint8_t *codes;          /* or n * code_len bytes: codes computed with the stream's model */
  size_t code_len;
  const uint32_t *labels;        /* one per item (label_counts NULL), or label_counts[i] for item i in turn */
  size_t n_labels;               /* entries in labels (0: no labels) */
  const uint32_t *label_counts;  /* n counts, or NULL */
} dpq_item_columns;

/* Sends one batch given as columns (1..max_batch_rows items), as dpq_upsert_stream_send does items. */
int dpq_upsert_stream_send_columns(dpq_stream *stream, const dpq_item_columns *columns, dpq_error *err);

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

#endif /* DPQ_STREAMS_H */
