/* test_streams.c, continued: training data uploads (class ids and CSR labels), training and
 * watching the job to its end, cancels from a callback and from the caller. Included once by
 * test_streams.c after stream_support.h. */
#ifndef DPQ_TESTS_STREAM_TRAINING_H
#define DPQ_TESTS_STREAM_TRAINING_H

/* ------------------------------------------------------------------------------------------ */
/* Training data, training, watching                                                           */

typedef struct watch_log {
  int n, states_ok, percent_ok, cancel_at;
  float last_percent;
  dpq_client *client; /* for a call from inside the callback */
  int nested_rc;
} watch_log;

static int on_update(const dpq_training_progress *p, void *user) {
  watch_log *w = user;
  w->n++;
  if (p->state < DPQ_TRAINING_PENDING || p->state > DPQ_TRAINING_CANCELLED) w->states_ok = 0;
  if (p->percent + 1e-3f < w->last_percent) w->percent_ok = 0;
  w->last_percent = p->percent;
  if (w->client && w->n == 1) { /* the callback may use the client */
    int serving = 0;
    dpq_error e;
    w->nested_rc = dpq_health(w->client, "", &serving, &e);
  }
  return w->cancel_at && w->n >= w->cancel_at;
}

static void test_training(dpq_client *c, const items *it) {
  dpq_error err;
  dpq_upload_result up;
  dpq_stream *s;
  /* CREATE with one class id per row, in chunks of 16 rows. */
  int rc = dpq_upload_training_open(c, "c-copy", "ds", DPQ_UPLOAD_CREATE, &s, &err);
  for (size_t i = 0; rc == DPQ_OK && i < it->n; i += 16) {
    size_t n = it->n - i < 16 ? it->n - i : 16;
    dpq_row_labels rl = {.class_ids = it->labels + i};
    rc = dpq_upload_training_send(s, it->vectors + i * it->dim, n, it->dim, &rl, &err);
  }
  if (s) rc = dpq_upload_training_finish(s, &up, &err);
  size_t chunks = (it->n + 15) / 16;
  check(rc == DPQ_OK && up.chunks_received == chunks && up.rows_received == it->n && up.dataset_rows == it->n,
        "UploadTrainingData (CREATE, class ids): %llu chunks, %llu rows, dataset %llu rows (rc %d %s)",
        (unsigned long long)up.chunks_received, (unsigned long long)up.rows_received,
        (unsigned long long)up.dataset_rows, rc, err.message);
  /* APPEND with CSR labels, in two chunks. */
  size_t *offsets = malloc((it->n + 1) * sizeof *offsets);
  for (size_t i = 0; i <= it->n; i++) offsets[i] = i;
  rc = dpq_upload_training_open(c, "c-copy", "ds", DPQ_UPLOAD_APPEND, &s, &err);
  size_t half = it->n / 2;
  dpq_row_labels l1 = {.labels = it->labels, .offsets = offsets};
  dpq_row_labels l2 = {.labels = it->labels, .offsets = offsets + half};
  if (rc == DPQ_OK) rc = dpq_upload_training_send(s, it->vectors, half, it->dim, &l1, &err);
  if (rc == DPQ_OK) rc = dpq_upload_training_send(s, it->vectors + half * it->dim, it->n - half, it->dim, &l2, &err);
  if (s) rc = dpq_upload_training_finish(s, &up, &err);
  check(rc == DPQ_OK && up.rows_received == it->n && up.dataset_rows == 2 * it->n,
        "UploadTrainingData (APPEND, CSR labels): dataset %llu rows (rc %d %s)", (unsigned long long)up.dataset_rows, rc,
        err.message);
  free(offsets);
  /* Errors. */
  dpq_row_labels rl0 = {.class_ids = it->labels};
  rc = dpq_upload_training_open(c, "c-copy", "ds", DPQ_UPLOAD_CREATE, &s, &err);
  if (rc == DPQ_OK) rc = dpq_upload_training_send(s, it->vectors, 4, it->dim, &rl0, &err);
  rc = dpq_upload_training_finish(s, &up, &err);
  check(rc == DPQ_ALREADY_EXISTS, "UploadTrainingData CREATE of an existing dataset -> ALREADY_EXISTS (%s)", err.message);
  rc = dpq_upload_training_open(c, "no-such-collection", "ds", 0, &s, &err);
  if (rc == DPQ_OK) rc = dpq_upload_training_send(s, it->vectors, 4, it->dim, &rl0, &err);
  if (rc == DPQ_OK || s) rc = dpq_upload_training_finish(s, &up, &err);
  check(rc == DPQ_NOT_FOUND, "UploadTrainingData to a missing collection -> NOT_FOUND (%s)", err.message);
  uint32_t bad_labels[4] = {0, 1, 99, 2};
  dpq_row_labels rlb = {.class_ids = bad_labels};
  rc = dpq_upload_training_open(c, "c-copy", "ds", DPQ_UPLOAD_APPEND, &s, &err);
  if (rc == DPQ_OK) rc = dpq_upload_training_send(s, it->vectors, 4, it->dim, &rlb, &err);
  if (rc == DPQ_OK) rc = dpq_upload_training_finish(s, &up, &err);
  else dpq_stream_cancel(s);
  check(rc == DPQ_INVALID_ARGUMENT && contains(err.message, "99"),
        "UploadTrainingData with label 99 of 4 classes -> INVALID_ARGUMENT naming it (%s)", err.message);

  /* A large upload (several MB, far beyond the HTTP/2 windows): each send waits for the server's
   * window instead of buffering; only one chunk is in memory at a time. */
  dpq_server_info si;
  uint32_t rows = 4096;
  if (dpq_get_server_info(c, &si, &err) == DPQ_OK && si.max_batch_rows && si.max_batch_rows < rows) rows = si.max_batch_rows;
  dpq_server_info_free(&si);
  float *big = malloc((size_t)rows * it->dim * sizeof *big);
  uint32_t *big_labels = malloc(rows * sizeof *big_labels);
  for (uint32_t r = 0; r < rows; r++) {
    memcpy(big + (size_t)r * it->dim, it->vectors + (r % it->n) * it->dim, it->dim * sizeof *big);
    big_labels[r] = it->labels[r % it->n];
  }
  enum { BIG_CHUNKS = 24 };
  int64_t t0 = now_ms();
  rc = dpq_upload_training_open(c, "c-copy", "big", DPQ_UPLOAD_REPLACE, &s, &err);
  dpq_row_labels bl = {.class_ids = big_labels};
  for (int i = 0; rc == DPQ_OK && i < BIG_CHUNKS; i++) rc = dpq_upload_training_send(s, big, rows, it->dim, &bl, &err);
  if (s) rc = dpq_upload_training_finish(s, &up, &err);
  double mb = (double)BIG_CHUNKS * rows * it->dim * 4 / 1e6;
  check(rc == DPQ_OK && up.chunks_received == BIG_CHUNKS && up.dataset_rows == (uint64_t)BIG_CHUNKS * rows,
        "UploadTrainingData of %.1f MB in %d chunks of %u rows: %llu rows stored, %lld ms (rc %d %s)", mb, BIG_CHUNKS, rows,
        (unsigned long long)up.dataset_rows, (long long)(now_ms() - t0), rc, err.message);
  free(big);
  free(big_labels);

  /* Train the copy on the dataset and watch the job to its end. */
  dpq_training_options opts = {.has_pretrain_epochs = 1, .pretrain_epochs = 1, .has_epochs = 1, .epochs = 2,
                               .has_batch_size = 1, .batch_size = 32, .has_seed = 1, .seed = 7};
  dpq_training_job job;
  rc = dpq_start_training(c, "c-copy", "ds", &opts, &job, &err);
  check(rc == DPQ_OK && job.job_id[0] && job.training_rows == 2 * it->n, "StartTraining on dataset ds: job %s, %llu rows (rc %d %s)",
        job.job_id, (unsigned long long)job.training_rows, rc, err.message);
  watch_log w = {.states_ok = 1, .percent_ok = 1, .client = c, .nested_rc = -1};
  dpq_training_progress last;
  rc = dpq_watch_training(c, job.job_id, NULL, 100, on_update, &w, &last, &err);
  check(rc == DPQ_OK && last.state == DPQ_TRAINING_SUCCEEDED && w.n >= 1 && w.states_ok && w.percent_ok &&
            !strcmp(last.job_id, job.job_id) && last.percent >= 99.9f,
        "WatchTraining to the end: %d updates, final state %d, %.1f%%, epochs %u/%u (rc %d %s)", w.n, last.state,
        last.percent, last.epoch, last.epochs, rc, err.message);
  check(w.nested_rc == DPQ_OK, "a call from inside the WatchTraining callback succeeds (rc %d)", w.nested_rc);
  watch_log w2 = {.states_ok = 1, .percent_ok = 1};
  rc = dpq_watch_training(c, NULL, "c-copy", 0, on_update, &w2, &last, &err);
  check(rc == DPQ_OK && w2.n == 1 && last.state == DPQ_TRAINING_SUCCEEDED,
        "WatchTraining of an ended job by collection: its final snapshot only (%d updates, rc %d %s)", w2.n, rc, err.message);
  dpq_collection_info ci;
  rc = dpq_get_collection(c, "c-copy", &ci, &err);
  check(rc == DPQ_OK && ci.state == DPQ_COLLECTION_READY && ci.item_count == it->n,
        "after training, c-copy is READY with its %llu items (rc %d %s)", (unsigned long long)ci.item_count, rc, err.message);
  dpq_collection_info_free(&ci);
  rc = dpq_watch_training(c, NULL, "no-such-collection", 0, on_update, &w2, NULL, &err);
  check(rc == DPQ_NOT_FOUND, "WatchTraining of a missing collection -> NOT_FOUND (%s)", err.message);

  /* A long job: cancel the watch from its callback, a deadline while watching, then cancel the job. */
  dpq_training_options longo = {.has_pretrain_epochs = 1, .pretrain_epochs = 0, .has_epochs = 1, .epochs = 5000,
                                .has_batch_size = 1, .batch_size = 4};
  rc = dpq_start_training(c, "c-copy", "ds", &longo, &job, &err);
  check(rc == DPQ_OK, "StartTraining of a long job %s (rc %d %s)", job.job_id, rc, err.message);
  int rc2 = dpq_start_training(c, "c-copy", "ds", &opts, NULL, &err);
  check(rc2 == DPQ_FAILED_PRECONDITION, "a second StartTraining while one runs -> FAILED_PRECONDITION (%s)", err.message);
  watch_log w3 = {.states_ok = 1, .percent_ok = 1, .cancel_at = 1};
  t0 = now_ms();
  rc = dpq_watch_training(c, job.job_id, NULL, 100, on_update, &w3, &last, &err);
  check(rc == DPQ_CANCELLED && w3.n == 1 && now_ms() - t0 < 3000 && contains(err.message, "callback"),
        "WatchTraining cancelled by its callback -> CANCELLED after %d update (%s)", w3.n, err.message);
  int serving = 0;
  int hr = dpq_health(c, "", &serving, &err);
  check(hr == DPQ_OK, "the connection serves calls after the watch was cancelled (rc %d)", hr);
  dpq_set_timeout(c, 400);
  t0 = now_ms();
  watch_log w4 = {.states_ok = 1, .percent_ok = 1};
  rc = dpq_watch_training(c, job.job_id, NULL, 100, on_update, &w4, &last, &err);
  int64_t took = now_ms() - t0;
  check(rc == DPQ_DEADLINE_EXCEEDED && w4.n >= 1 && took >= 350 && took < 3000,
        "400 ms deadline while watching a long job -> DEADLINE_EXCEEDED after %lld ms and %d updates (%s)", (long long)took,
        w4.n, err.message);
  dpq_set_timeout(c, 20000);
  rc = dpq_cancel_training(c, job.job_id, NULL, &last, &err);
  check(rc == DPQ_OK && (last.state == DPQ_TRAINING_CANCELLED || last.state == DPQ_TRAINING_RUNNING),
        "CancelTraining of the long job: state %d (rc %d %s)", last.state, rc, err.message);
  rc = dpq_watch_training(c, job.job_id, NULL, 100, NULL, NULL, &last, &err);
  check(rc == DPQ_OK && last.state == DPQ_TRAINING_CANCELLED, "the job the watches left alone ends CANCELLED (state %d, rc %d %s)",
        last.state, rc, err.message);
}

#endif
