/*
 * addresses.c: a client of several servers (dpq_connect_any). The servers share one store (issue 14),
 * so any of them answers any call. A client keeps one HTTP/2 connection at a time:
 *  - spreading: each new client starts at the next address of its list (a process-wide counter), so
 *    clients made one per thread are spread round robin over the servers;
 *  - failover: connecting tries the addresses in turn from the current one, each attempt getting an
 *    equal share of what is left of the deadline (at least 1 s), so one unreachable or hung server
 *    does not use up the whole deadline;
 *  - retries: a unary call that may be repeated without changing its outcome (the same list as the
 *    Swift client's service config: searches, reads, health, upserts and deletes by id) and ends
 *    UNAVAILABLE is sent again once to each other address, within the call's deadline. Other calls
 *    (creating, training, importing, streams) are not repeated: a second attempt could report
 *    ALREADY_EXISTS or start a second job.
 */
#include "internal.h"

#include <stdlib.h>
#include <string.h>

void dpq__free_addresses(dpq_address *a, int n) {
  for (int i = 0; a && i < n; i++) free(a[i].host);
  free(a);
}

/* One "host:port" or "[v6]:port" entry of length len. */
static int parse_one(const char *s, size_t len, dpq_address *out, dpq_error *err) {
  const char *end = s + len, *colon;
  const char *host = s;
  size_t host_len;
  if (len && s[0] == '[') {
    const char *close = memchr(s, ']', len);
    if (!close || close + 1 >= end || close[1] != ':')
      return dpq__set_err(err, DPQ_INVALID_ARGUMENT, "address '%.*s': an IPv6 address is written [addr]:port", (int)len, s);
    host = s + 1;
    host_len = (size_t)(close - host);
    colon = close + 1;
  } else {
    colon = NULL;
    for (const char *p = s; p < end; p++)
      if (*p == ':') colon = p;
    if (!colon) return dpq__set_err(err, DPQ_INVALID_ARGUMENT, "address '%.*s' has no port (host:port)", (int)len, s);
    host_len = (size_t)(colon - s);
    if (memchr(s, ':', host_len))
      return dpq__set_err(err, DPQ_INVALID_ARGUMENT, "address '%.*s': an IPv6 address is written [addr]:port", (int)len, s);
  }
  if (!host_len) return dpq__set_err(err, DPQ_INVALID_ARGUMENT, "address '%.*s' has no host", (int)len, s);
  long port = 0;
  const char *p = colon + 1;
  if (p >= end) return dpq__set_err(err, DPQ_INVALID_ARGUMENT, "address '%.*s' has no port (host:port)", (int)len, s);
  for (; p < end; p++) {
    if (*p < '0' || *p > '9' || port > 65535)
      return dpq__set_err(err, DPQ_INVALID_ARGUMENT, "address '%.*s': the port is not a number in 1..65535", (int)len, s);
    port = port * 10 + (*p - '0');
  }
  if (port < 1 || port > 65535)
    return dpq__set_err(err, DPQ_INVALID_ARGUMENT, "address '%.*s': the port is not a number in 1..65535", (int)len, s);
  out->host = strndup(host, host_len);
  if (!out->host) return dpq__set_err(err, DPQ_INTERNAL, "out of memory");
  out->port = (int)port;
  return DPQ_OK;
}

int dpq__parse_addresses(const char *list, dpq_address **out, int *n, dpq_error *err) {
  *out = NULL;
  *n = 0;
  if (!list || !*list) return dpq__set_err(err, DPQ_INVALID_ARGUMENT, "no address: give host:port[,host:port...]");
  int cap = 1;
  for (const char *p = list; *p; p++) cap += *p == ',';
  dpq_address *a = calloc((size_t)cap, sizeof *a);
  if (!a) return dpq__set_err(err, DPQ_INTERNAL, "out of memory");
  int count = 0;
  for (const char *s = list;;) {
    const char *comma = strchr(s, ',');
    size_t len = comma ? (size_t)(comma - s) : strlen(s);
    while (len && *s == ' ') s++, len--;
    while (len && s[len - 1] == ' ') len--;
    int rc = parse_one(s, len, &a[count], err);
    if (rc != DPQ_OK) {
      dpq__free_addresses(a, count);
      return rc;
    }
    count++;
    if (!comma) break;
    s = comma + 1;
  }
  *out = a;
  *n = count;
  return DPQ_OK;
}

void dpq__use_address(dpq_client *c, int i) {
  c->current = i;
  c->host = c->addrs[i].host;
  c->port = c->addrs[i].port;
  if (strchr(c->host, ':'))
    snprintf(c->authority, sizeof c->authority, "[%s]:%d", c->host, c->port); /* IPv6 literal */
  else
    snprintf(c->authority, sizeof c->authority, "%s:%d", c->host, c->port);
}

int dpq__idempotent(const char *path) {
  static const char *const prefixes[] = {"/dpq.v1.SearchService/", "/dpq.v1.ServerInfoService/"};
  static const char *const methods[] = {
      "/grpc.health.v1.Health/Check",           "/dpq.v1.CollectionService/GetCollection",
      "/dpq.v1.CollectionService/ListCollections", "/dpq.v1.ItemService/UpsertItems",
      "/dpq.v1.ItemService/DeleteItems",        "/dpq.v1.ItemService/GetItems",
      "/dpq.v1.ItemService/ListItems",          "/dpq.v1.ItemService/CountItems",
      "/dpq.v1.ModelService/Encode",            "/dpq.v1.ModelService/Decode",
      "/dpq.v1.TrainingService/ListTrainingData"};
  for (size_t i = 0; i < sizeof prefixes / sizeof prefixes[0]; i++)
    if (!strncmp(path, prefixes[i], strlen(prefixes[i]))) return 1;
  for (size_t i = 0; i < sizeof methods / sizeof methods[0]; i++)
    if (!strcmp(path, methods[i])) return 1;
  return 0;
}

dpq_client *dpq_connect_any(const char *addresses, int timeout_ms, dpq_error *err) {
  dpq__clear_err(err);
  dpq_address *a;
  int n;
  if (dpq__parse_addresses(addresses, &a, &n, err) != DPQ_OK) return NULL;
  static unsigned next_start;
  unsigned start = __atomic_fetch_add(&next_start, 1, __ATOMIC_RELAXED);
  return dpq__connect_list(a, n, (int)(start % (unsigned)n), timeout_ms, err);
}

const char *dpq_current_address(const dpq_client *c) { return c ? c->authority : ""; }
