/* Test input readers shared by test_client.c and test_streams.c: a minimal JSON reader (enough for
 * `dpq search --json` output and the items.jsonl rows) and the queries file (one comma-separated
 * vector per line). */
#ifndef DPQ_TESTS_TESTDATA_H
#define DPQ_TESTS_TESTDATA_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------------------------------ */
/* A minimal JSON reader (enough for `dpq search --json`)                                       */

enum { J_NULL, J_BOOL, J_NUM, J_STR, J_ARR, J_OBJ };
typedef struct jv {
  int type;
  double num;
  char *str; /* J_STR: the string; J_NUM: the number's text */
  struct jv *items;
  char **keys; /* J_OBJ: one key per item */
  size_t n;
} jv;

static inline void jv_free(jv *v) {
  free(v->str);
  for (size_t i = 0; i < v->n; i++) {
    jv_free(&v->items[i]);
    if (v->keys) free(v->keys[i]);
  }
  free(v->items);
  free(v->keys);
  memset(v, 0, sizeof *v);
}

static inline void skip_ws(const char **p) {
  while (**p == ' ' || **p == '\n' || **p == '\r' || **p == '\t') (*p)++;
}

static inline char *parse_str(const char **p) {
  if (**p != '"') return NULL;
  (*p)++;
  size_t cap = 16, n = 0;
  char *s = malloc(cap);
  while (s && **p && **p != '"') {
    char ch = **p;
    if (ch == '\\') {
      (*p)++;
      switch (**p) {
        case 'n': ch = '\n'; break;
        case 't': ch = '\t'; break;
        case 'r': ch = '\r'; break;
        case 'b': ch = '\b'; break;
        case 'f': ch = '\f'; break;
        case 'u': { /* BMP only, encoded as UTF-8 */
          unsigned cp = 0;
          for (int i = 1; i <= 4; i++) {
            char h = (*p)[i];
            cp = cp * 16 + (unsigned)((h >= '0' && h <= '9') ? h - '0' : (h | 32) - 'a' + 10);
          }
          *p += 4;
          char u[3];
          int len = 0;
          if (cp < 0x80) u[len++] = (char)cp;
          else if (cp < 0x800) { u[len++] = (char)(0xc0 | (cp >> 6)); u[len++] = (char)(0x80 | (cp & 63)); }
          else { u[len++] = (char)(0xe0 | (cp >> 12)); u[len++] = (char)(0x80 | ((cp >> 6) & 63)); u[len++] = (char)(0x80 | (cp & 63)); }
          for (int i = 0; i < len - 1; i++) {
            if (n + 2 > cap) s = realloc(s, cap *= 2);
            if (!s) return NULL;
            s[n++] = u[i];
          }
          ch = u[len - 1];
          break;
        }
        default: ch = **p; /* \" \\ \/ */
      }
    }
    if (n + 2 > cap) {
      char *t = realloc(s, cap *= 2);
      if (!t) { free(s); return NULL; }
      s = t;
    }
    s[n++] = ch;
    (*p)++;
  }
  if (!s || **p != '"') { free(s); return NULL; }
  (*p)++;
  s[n] = '\0';
  return s;
}

static inline int parse_value(const char **p, jv *out) {
  memset(out, 0, sizeof *out);
  skip_ws(p);
  if (**p == '[' || **p == '{') {
    int obj = **p == '{';
    out->type = obj ? J_OBJ : J_ARR;
    (*p)++;
    skip_ws(p);
    if (**p == (obj ? '}' : ']')) { (*p)++; return 0; }
    for (;;) {
      char *key = NULL;
      if (obj) {
        skip_ws(p);
        if (!(key = parse_str(p))) return -1;
        skip_ws(p);
        if (**p != ':') { free(key); return -1; }
        (*p)++;
      }
      jv *items = realloc(out->items, (out->n + 1) * sizeof *items);
      if (!items) { free(key); return -1; }
      out->items = items;
      if (obj) {
        char **keys = realloc(out->keys, (out->n + 1) * sizeof *keys);
        if (!keys) { free(key); return -1; }
        out->keys = keys;
        out->keys[out->n] = key;
      }
      int rc = parse_value(p, &out->items[out->n]);
      out->n++;
      if (rc) return -1;
      skip_ws(p);
      if (**p == ',') { (*p)++; continue; }
      if (**p == (obj ? '}' : ']')) { (*p)++; return 0; }
      return -1;
    }
  }
  if (**p == '"') {
    out->type = J_STR;
    return (out->str = parse_str(p)) ? 0 : -1;
  }
  if (!strncmp(*p, "null", 4)) { *p += 4; out->type = J_NULL; return 0; }
  if (!strncmp(*p, "true", 4)) { *p += 4; out->type = J_BOOL; out->num = 1; return 0; }
  if (!strncmp(*p, "false", 5)) { *p += 5; out->type = J_BOOL; return 0; }
  char *end;
  out->num = strtod(*p, &end);
  if (end == *p) return -1;
  out->type = J_NUM;
  out->str = strndup(*p, (size_t)(end - *p));
  *p = end;
  return out->str ? 0 : -1;
}

static inline const jv *jv_get(const jv *o, const char *key) {
  for (size_t i = 0; o->type == J_OBJ && i < o->n; i++)
    if (!strcmp(o->keys[i], key)) return &o->items[i];
  return NULL;
}

static inline int read_json_file(const char *path, jv *out) {
  FILE *f = fopen(path, "r");
  if (!f) return perror(path), -1;
  size_t cap = 1 << 16, n = 0;
  char *buf = malloc(cap);
  size_t r;
  while (buf && (r = fread(buf + n, 1, cap - n - 1, f)) > 0) {
    n += r;
    if (n + 1 == cap) buf = realloc(buf, cap *= 2);
  }
  fclose(f);
  if (!buf) return -1;
  buf[n] = '\0';
  const char *p = buf;
  int rc = parse_value(&p, out);
  free(buf);
  if (rc) {
    fprintf(stderr, "%s: not valid JSON\n", path);
    jv_free(out);
  }
  return rc;
}

/* ------------------------------------------------------------------------------------------ */
/* Queries file                                                                                 */

static inline float *read_queries(const char *path, size_t *n_out, size_t *dim_out) {
  FILE *f = fopen(path, "r");
  if (!f) return perror(path), NULL;
  char line[65536];
  float *v = NULL;
  size_t n = 0, dim = 0;
  while (fgets(line, sizeof line, f)) {
    float row[4096];
    size_t d = 0;
    char *s = line, *end;
    while (d < 4096) {
      float x = strtof(s, &end);
      if (end == s) break;
      row[d++] = x;
      s = end;
      if (*s == ',') s++;
    }
    if (!d) continue;
    if (dim && d != dim) {
      fprintf(stderr, "%s: rows of different dimensions\n", path);
      free(v);
      fclose(f);
      return NULL;
    }
    dim = d;
    float *t = realloc(v, (n + 1) * dim * sizeof *v);
    if (!t) { free(v); fclose(f); return NULL; }
    v = t;
    memcpy(v + n * dim, row, dim * sizeof *row);
    n++;
  }
  fclose(f);
  *n_out = n;
  *dim_out = dim;
  return v;
}

#endif
