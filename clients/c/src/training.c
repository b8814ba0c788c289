/*
 * training.c: dpq.v1.TrainingService: UploadTrainingData (client stream), StartTraining,
 * WatchTraining (server stream), CancelTraining.
 */
#include "internal.h"

#include <stdlib.h>
#include <string.h>

#include "dpq/v1/training.pb-c.h"

/* ------------------------------------------------------------------------------------------ */
/* UploadTrainingData                                                                           */

int dpq_upload_training_open(dpq_client *c, const char *collection, const char *dataset, int mode,
                             dpq_stream **out, dpq_error *err) {
  dpq__clear_err(err);
  if (out) *out = NULL;
  if (!c || !collection || !out)
    return dpq__set_err(err, DPQ_INVALID_ARGUMENT, "dpq_upload_training_open: NULL argument");
  if (mode < 0 || mode > DPQ_UPLOAD_CREATE)
    return dpq__set_err(err, DPQ_INVALID_ARGUMENT, "dpq_upload_training_open: mode must be a DPQ_UPLOAD_* value");
  int rc = dpq__stream_open(c, "/dpq.v1.TrainingService/UploadTrainingData", DPQ_STREAM_UPLOAD, out, err);
  if (rc != DPQ_OK) return rc;
  (*out)->collection = dpq__strdup(collection);
  (*out)->dataset = dpq__strdup(dataset);
  (*out)->mode = mode;
  if (!(*out)->collection || !(*out)->dataset) {
    dpq_stream_cancel(*out);
    *out = NULL;
    return dpq__set_err(err, DPQ_INTERNAL, "out of memory");
  }
  return DPQ_OK;
}

int dpq_upload_training_send(dpq_stream *s, const float *vectors, size_t n_rows, size_t dim,
                             const dpq_row_labels *labels, dpq_error *err) {
  dpq__clear_err(err);
  if (!s || s->kind != DPQ_STREAM_UPLOAD)
    return dpq__set_err(err, DPQ_INVALID_ARGUMENT, "dpq_upload_training_send: not an upload stream");
  if ((n_rows && dim && !vectors) || dim > 0xffffffffu || (dim && n_rows > (size_t)-1 / dim / sizeof(float)))
    return dpq__set_err(err, DPQ_INVALID_ARGUMENT, "dpq_upload_training_send: bad vectors");
  if (labels && !labels->class_ids && n_rows && (!labels->offsets || (!labels->labels && labels->offsets[n_rows])))
    return dpq__set_err(err, DPQ_INVALID_ARGUMENT, "dpq_upload_training_send: labels need class_ids or offsets");

  Dpq__V1__DenseVectors vv = DPQ__V1__DENSE_VECTORS__INIT;
  vv.dimension = (uint32_t)dim;
  vv.n_values = n_rows * dim;
  vv.values = (float *)vectors;
  Dpq__V1__UploadTrainingDataRequest req = DPQ__V1__UPLOAD_TRAINING_DATA_REQUEST__INIT;
  if (s->messages == 0) { /* the first chunk names the target */
    req.collection = s->collection;
    req.dataset = s->dataset;
    req.mode = (Dpq__V1__UploadMode)s->mode;
  }
  req.vectors = &vv;
  Dpq__V1__RowLabels rl = DPQ__V1__ROW_LABELS__INIT;
  Dpq__V1__ClassIds ids = DPQ__V1__CLASS_IDS__INIT;
  Dpq__V1__LabelSets sets = DPQ__V1__LABEL_SETS__INIT;
  Dpq__V1__LabelSet *rows = NULL, **row_ptrs = NULL;
  if (labels && labels->class_ids) {
    ids.n_ids = n_rows;
    ids.ids = (uint32_t *)labels->class_ids;
    rl.form_case = DPQ__V1__ROW_LABELS__FORM_CLASS_IDS;
    rl.class_ids = &ids;
    req.labels = &rl;
  } else if (labels) {
    rows = calloc(n_rows ? n_rows : 1, sizeof *rows);
    row_ptrs = calloc(n_rows ? n_rows : 1, sizeof *row_ptrs);
    if (!rows || !row_ptrs) {
      free(rows);
      free(row_ptrs);
      return dpq__set_err(err, DPQ_INTERNAL, "out of memory");
    }
    for (size_t r = 0; r < n_rows; r++) {
      dpq__v1__label_set__init(&rows[r]);
      size_t a = labels->offsets[r], b = labels->offsets[r + 1];
      rows[r].n_labels = b > a ? b - a : 0;
      rows[r].labels = (uint32_t *)labels->labels + a;
      row_ptrs[r] = &rows[r];
    }
    sets.n_rows = n_rows;
    sets.rows = row_ptrs;
    rl.form_case = DPQ__V1__ROW_LABELS__FORM_SETS;
    rl.sets = &sets;
    req.labels = &rl;
  }
  int rc = dpq__stream_send(s, &req.base, NULL, 0, err);
  free(rows);
  free(row_ptrs);
  return rc;
}

int dpq_upload_training_finish(dpq_stream *s, dpq_upload_result *out, dpq_error *err) {
  dpq__clear_err(err);
  if (out) memset(out, 0, sizeof *out);
  if (!s || s->kind != DPQ_STREAM_UPLOAD)
    return dpq__set_err(err, DPQ_INVALID_ARGUMENT, "dpq_upload_training_finish: not an upload stream");
  ProtobufCMessage *m = NULL;
  int rc = dpq__stream_finish(s, &dpq__v1__upload_training_data_response__descriptor, &m, NULL, NULL, err);
  if (rc != DPQ_OK) return rc;
  Dpq__V1__UploadTrainingDataResponse *r = (Dpq__V1__UploadTrainingDataResponse *)m;
  if (out) {
    out->chunks_received = r->chunks_received;
    out->rows_received = r->rows_received;
    out->dataset_rows = r->dataset_rows;
  }
  protobuf_c_message_free_unpacked(m, NULL);
  return DPQ_OK;
}

/* ------------------------------------------------------------------------------------------ */
/* Jobs                                                                                         */

static void progress_from_pb(const Dpq__V1__TrainingProgress *p, dpq_training_progress *out) {
  memset(out, 0, sizeof *out);
  if (!p) return;
  dpq__copy_str(out->job_id, sizeof out->job_id, p->job_id);
  dpq__copy_str(out->collection, sizeof out->collection, p->collection);
  dpq__copy_str(out->error, sizeof out->error, p->error);
  out->state = (int)p->state;
  out->phase = (int)p->phase;
  out->epoch = p->epoch;
  out->epochs = p->epochs;
  out->step = p->step;
  out->total_steps = p->total_steps;
  if (p->losses) {
    out->loss_total = p->losses->total;
    out->loss_classification = p->losses->classification;
  }
  out->percent = p->percent;
  out->eta_seconds = p->eta_seconds;
  out->elapsed_seconds = p->elapsed_seconds;
  out->samples_per_second = p->samples_per_second;
  out->training_rows = p->training_rows;
}

int dpq_start_training(dpq_client *c, const char *collection, const char *dataset,
                       const dpq_training_options *o, dpq_training_job *job, dpq_error *err) {
  dpq__clear_err(err);
  if (job) memset(job, 0, sizeof *job);
  if (!c || !collection) return dpq__set_err(err, DPQ_INVALID_ARGUMENT, "dpq_start_training: NULL argument");
  Dpq__V1__StartTrainingRequest req = DPQ__V1__START_TRAINING_REQUEST__INIT;
  Dpq__V1__ItemsSource items = DPQ__V1__ITEMS_SOURCE__INIT;
  Dpq__V1__TrainingOptions opts = DPQ__V1__TRAINING_OPTIONS__INIT;
  req.collection = (char *)collection;
  if (dataset) {
    req.source_case = DPQ__V1__START_TRAINING_REQUEST__SOURCE_DATASET;
    req.dataset = (char *)dataset;
  } else {
    req.source_case = DPQ__V1__START_TRAINING_REQUEST__SOURCE_ITEMS;
    req.items = &items;
  }
  if (o) {
    if (o->has_pretrain_epochs) {
      opts.pretrain_epochs_opt_case = DPQ__V1__TRAINING_OPTIONS__PRETRAIN_EPOCHS_OPT_PRETRAIN_EPOCHS;
      opts.pretrain_epochs = o->pretrain_epochs;
    }
    if (o->has_epochs) {
      opts.epochs_opt_case = DPQ__V1__TRAINING_OPTIONS__EPOCHS_OPT_EPOCHS;
      opts.epochs = o->epochs;
    }
    if (o->has_batch_size) {
      opts.batch_size_opt_case = DPQ__V1__TRAINING_OPTIONS__BATCH_SIZE_OPT_BATCH_SIZE;
      opts.batch_size = o->batch_size;
    }
    if (o->has_learning_rate) {
      opts.learning_rate_opt_case = DPQ__V1__TRAINING_OPTIONS__LEARNING_RATE_OPT_LEARNING_RATE;
      opts.learning_rate = o->learning_rate;
    }
    if (o->has_seed) {
      opts.seed_opt_case = DPQ__V1__TRAINING_OPTIONS__SEED_OPT_SEED;
      opts.seed = o->seed;
    }
    if (o->has_threads) {
      opts.threads_opt_case = DPQ__V1__TRAINING_OPTIONS__THREADS_OPT_THREADS;
      opts.threads = o->threads;
    }
    req.options = &opts;
  }
  ProtobufCMessage *m;
  int rc = dpq__call_msg(c, "/dpq.v1.TrainingService/StartTraining", &req.base,
                         &dpq__v1__start_training_response__descriptor, &m, err);
  if (rc != DPQ_OK) return rc;
  Dpq__V1__StartTrainingResponse *r = (Dpq__V1__StartTrainingResponse *)m;
  if (job) {
    dpq__copy_str(job->job_id, sizeof job->job_id, r->job_id);
    job->training_rows = r->training_rows;
  }
  protobuf_c_message_free_unpacked(m, NULL);
  return DPQ_OK;
}

typedef struct watch {
  dpq_training_fn fn;
  void *user;
  dpq_training_progress last;
  int n;
} watch;

static int watch_deliver(void *arg, const uint8_t *msg, size_t len, dpq_error *err) {
  watch *w = arg;
  Dpq__V1__WatchTrainingResponse *r = dpq__v1__watch_training_response__unpack(NULL, len, msg);
  if (!r) return dpq__set_err(err, DPQ_INTERNAL, "cannot parse a WatchTrainingResponse");
  progress_from_pb(r->progress, &w->last);
  dpq__v1__watch_training_response__free_unpacked(r, NULL);
  w->n++;
  if (w->fn && w->fn(&w->last, w->user))
    return dpq__set_err(err, DPQ_CANCELLED, "WatchTraining cancelled by the callback");
  return DPQ_OK;
}

int dpq_watch_training(dpq_client *c, const char *job_id, const char *collection, uint32_t min_interval_ms,
                       dpq_training_fn on_update, void *user, dpq_training_progress *last, dpq_error *err) {
  dpq__clear_err(err);
  if (last) memset(last, 0, sizeof *last);
  if (!c) return dpq__set_err(err, DPQ_INVALID_ARGUMENT, "dpq_watch_training: NULL client");
  Dpq__V1__WatchTrainingRequest req = DPQ__V1__WATCH_TRAINING_REQUEST__INIT;
  if (job_id && *job_id) {
    req.target_case = DPQ__V1__WATCH_TRAINING_REQUEST__TARGET_JOB_ID;
    req.job_id = (char *)job_id;
  } else if (collection) {
    req.target_case = DPQ__V1__WATCH_TRAINING_REQUEST__TARGET_COLLECTION;
    req.collection = (char *)collection;
  }
  req.min_interval_ms = min_interval_ms;
  watch w;
  memset(&w, 0, sizeof w);
  w.fn = on_update;
  w.user = user;
  int rc = dpq__server_stream(c, "/dpq.v1.TrainingService/WatchTraining", &req.base, NULL, 0, watch_deliver, &w, err);
  if (rc == DPQ_OK && w.n == 0)
    rc = dpq__set_err(err, DPQ_INTERNAL, "WatchTraining ended without any update");
  if (rc == DPQ_OK && w.last.state != DPQ_TRAINING_SUCCEEDED && w.last.state != DPQ_TRAINING_FAILED &&
      w.last.state != DPQ_TRAINING_CANCELLED)
    rc = dpq__set_err(err, DPQ_INTERNAL, "WatchTraining ended before the job did (state %d)", w.last.state);
  if (last) *last = w.last;
  return rc;
}

int dpq_cancel_training(dpq_client *c, const char *job_id, const char *collection, dpq_training_progress *out,
                        dpq_error *err) {
  dpq__clear_err(err);
  if (out) memset(out, 0, sizeof *out);
  if (!c) return dpq__set_err(err, DPQ_INVALID_ARGUMENT, "dpq_cancel_training: NULL client");
  Dpq__V1__CancelTrainingRequest req = DPQ__V1__CANCEL_TRAINING_REQUEST__INIT;
  if (job_id && *job_id) {
    req.target_case = DPQ__V1__CANCEL_TRAINING_REQUEST__TARGET_JOB_ID;
    req.job_id = (char *)job_id;
  } else if (collection) {
    req.target_case = DPQ__V1__CANCEL_TRAINING_REQUEST__TARGET_COLLECTION;
    req.collection = (char *)collection;
  }
  ProtobufCMessage *m;
  int rc = dpq__call_msg(c, "/dpq.v1.TrainingService/CancelTraining", &req.base,
                         &dpq__v1__cancel_training_response__descriptor, &m, err);
  if (rc != DPQ_OK) return rc;
  if (out) progress_from_pb(((Dpq__V1__CancelTrainingResponse *)m)->progress, out);
  protobuf_c_message_free_unpacked(m, NULL);
  return DPQ_OK;
}
