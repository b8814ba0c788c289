#!/usr/bin/env python3
"""h2load against `dpq serve`: Search with pre-encoded gRPC frames, connections x streams per connection.

For each server profile (--server-limits: "raised" admits every call of the largest point,
"default" is the shipped 256 calls in all and 256 streams per connection) starts `dpq serve` (the
binary given with --dpq) on a free port with a temporary data directory and its Prometheus
endpoint, creates and trains a small collection on generated clustered data, upserts the items,
then for every point of the sweep (-c C, -m M):

  1. a pilot h2load run (one wave of the calls in flight, C x min(M, advertised streams), at least
     --pilot-min requests) that warms the point up and measures its rate;
  2. the measured run: -n N, N = rate x --seconds, at least --waves x the calls in flight so that
     every stream carries several calls; --log-file gives each request's time, from which p50/p99
     come. The server's peak VmRSS is sampled during both.

h2load only sees HTTP: a gRPC error is HTTP 200 with grpc-status in the trailers. So the server's
`dpq_rpc_requests_total{method="dpq.v1.SearchService/Search",code=...}` is read before the pilot and
after the measured run, and every point reports both h2load's failed/errored requests and the calls
per gRPC code. Requests are counted with -n, not timed with -D, so that no call is in flight when
h2load stops (a timed run cancels them, and the server would count those as `cancelled`); the OK
calls counted by the server must then equal the requests h2load saw succeed.

Writes the results as JSON (--out), the plot (--svg; bench/aggregate.py's svg_plot, two panels:
throughput and p99 against streams per connection) and prints a markdown table.
"""

import argparse, ast, json, math, os, re, shutil, struct, subprocess, sys, tempfile, time

HERE = os.path.dirname(os.path.abspath(__file__))
METHOD = "dpq.v1.SearchService/Search"
COLLECTION = "h2load"
DIM, CLASSES = 32, 10


# ---- protobuf wire encoding of dpq.v1.SearchRequest (proto/dpq/v1/search.proto), stdlib only ----

def varint(n):
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        out.append(b | 0x80 if n else b)
        if not n:
            return bytes(out)


def field(number, wire_type, payload):
    tag = varint(number << 3 | wire_type)
    if wire_type == 0:
        return tag + varint(payload)
    return tag + varint(len(payload)) + payload          # wire type 2: length-delimited


def search_request(collection, query, k, bits=0):
    # DenseVectors { uint32 dimension = 1; repeated float values = 2 (packed) }
    dense = field(1, 0, len(query)) + field(2, 2, struct.pack("<%df" % len(query), *query))
    # SearchRequest { string collection = 1; DenseVectors queries = 2; uint32 k = 3; uint32 bits = 4 }
    msg = field(1, 2, collection.encode()) + field(2, 2, dense) + field(3, 0, k)
    if bits:
        msg += field(4, 0, bits)
    return msg


def grpc_frame(message):
    # Length-prefixed message: compressed flag 0, then the length as big-endian uint32.
    return b"\x00" + struct.pack(">I", len(message)) + message


# ---- helpers ----

def load_svg_plot():
    """svg_plot from bench/aggregate.py (a script that runs on import, so only that function is taken)."""
    path = os.path.join(HERE, "aggregate.py")
    tree = ast.parse(open(path).read(), path)
    fn = next(n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "svg_plot")
    ns = {"math": math, "os": os}
    exec(compile(ast.Module(body=[fn], type_ignores=[]), path, "exec"), ns)
    return ns["svg_plot"]


def run(cmd, **kw):
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kw)
    if p.returncode != 0:
        sys.exit("failed (%d): %s\n%s%s" % (p.returncode, " ".join(cmd), p.stdout[-2000:], p.stderr[-2000:]))
    return p.stdout


def scrape(metrics_url):
    """Search calls by gRPC code from the server's Prometheus text."""
    import urllib.request
    text = urllib.request.urlopen(metrics_url, timeout=30).read().decode()
    out = {}
    for line in text.splitlines():
        if not line.startswith("dpq_rpc_requests_total{"):
            continue
        m = re.match(r'dpq_rpc_requests_total\{(.*)\}\s+([0-9.eE+]+)', line)
        labels = dict(re.findall(r'(\w+)="([^"]*)"', m.group(1)))
        if labels.get("method") == METHOD:
            out[labels["code"]] = out.get(labels["code"], 0) + int(float(m.group(2)))
    return out


def proc_status(pid):
    st = {}
    try:
        for line in open("/proc/%d/status" % pid):
            k, _, v = line.partition(":")
            if k in ("VmRSS", "VmHWM", "Threads"):
                st[k] = int(v.split()[0])
    except OSError:
        pass
    return st


def parse_h2load(text):
    r = {}
    m = re.search(r"finished in ([0-9.]+)(m?s), ([0-9.]+) req/s", text)
    if m:
        r["seconds"] = float(m.group(1)) / (1000 if m.group(2) == "ms" else 1)
        r["req_per_s"] = float(m.group(3))
    m = re.search(r"requests: (\d+) total, (\d+) started, (\d+) done, (\d+) succeeded, (\d+) failed, (\d+) errored, (\d+) timeout", text)
    if m:
        for k, v in zip(["total", "started", "done", "succeeded", "failed", "errored", "timeout"], m.groups()):
            r[k] = int(v)
    m = re.search(r"status codes: (\d+) 2xx, (\d+) 3xx, (\d+) 4xx, (\d+) 5xx", text)
    if m:
        r["status"] = dict(zip(["2xx", "3xx", "4xx", "5xx"], map(int, m.groups())))
    m = re.search(r"time for request:\s+(\S+)\s+(\S+)\s+(\S+)\s+(\S+)", text)
    if m:
        r["time_for_request"] = dict(zip(["min", "max", "mean", "sd"], m.groups()))
    return r


def percentiles(log_path):
    """p50/p99/max in ms of the requests that got a response (column 2 = status, column 3 = microseconds)."""
    times = []
    failed = 0
    with open(log_path) as f:
        for line in f:
            cols = line.split("\t")
            if len(cols) < 3:
                continue
            if cols[1] == "-1":
                failed += 1
                continue
            times.append(int(cols[2]))
    times.sort()
    if not times:
        return {"p50_ms": None, "p99_ms": None, "max_ms": None, "logged": 0, "logged_failed": failed}
    q = lambda p: times[min(len(times) - 1, int(math.ceil(p * len(times))) - 1)] / 1000.0
    return {"p50_ms": q(0.50), "p99_ms": q(0.99), "max_ms": times[-1] / 1000.0, "logged": len(times),
            "logged_failed": failed}


def fmt_int(n):
    return "{:,}".format(int(round(n)))


def fmt_ms(v):
    if v is None:
        return "-"
    return "%.2f ms" % v if v < 10 else "%.1f ms" % v if v < 100 else "%.0f ms" % v


class RSSSampler:
    """Peak VmRSS of a process, sampled every 50 ms between start() and stop()."""

    def __init__(self, pid):
        import threading
        self.pid, self.peak, self.stopping = pid, 0, threading.Event()
        self.thread = threading.Thread(target=self.loop, daemon=True)
        self.thread.start()

    def loop(self):
        while not self.stopping.is_set():
            self.peak = max(self.peak, proc_status(self.pid).get("VmRSS", 0))
            self.stopping.wait(0.05)

    def stop(self):
        self.stopping.set()
        self.thread.join()
        return round(max(self.peak, proc_status(self.pid).get("VmRSS", 0)) / 1024, 1)


def delta(after, before):
    d = {k: after.get(k, 0) - before.get(k, 0) for k in set(after) | set(before)}
    return {k: v for k, v in sorted(d.items()) if v}


# ---- one sweep against one server ----

def sweep(a, profile, data, work):
    """Starts a server with `profile` limits, loads the collection, runs every point, stops the server."""
    cs, ms = a.cs, a.ms
    top = max(cs) * max(ms)
    pdir = os.path.join(work, profile)
    os.makedirs(pdir)
    serve = [a.dpq, "serve", "--port", "0", "--data-dir", os.path.join(pdir, "data"), "--metrics-port", "0"]
    settings = {"limits.maxConcurrentRPCs": 256, "connection.maxConcurrentStreams": 256, "flags": ""}
    if profile == "raised":
        streams, rpcs = max(ms), max(256, top)
        with open(os.path.join(pdir, "settings.json"), "w") as f:
            json.dump({"limits": {"maxConcurrentRPCs": rpcs}}, f)
        serve += ["--config", os.path.join(pdir, "settings.json"), "--max-concurrent-streams", str(streams)]
        settings = {"limits.maxConcurrentRPCs": rpcs, "connection.maxConcurrentStreams": streams,
                    "flags": "--config settings.json ({\"limits\": {\"maxConcurrentRPCs\": %d}}) --max-concurrent-streams %d" % (rpcs, streams)}
    out_path, log_path = os.path.join(pdir, "server.out"), os.path.join(pdir, "server.log")
    server = subprocess.Popen(serve, stdout=open(out_path, "w"), stderr=open(log_path, "w"))
    points = []
    try:
        address = metrics_port = None
        for _ in range(300):
            if server.poll() is not None:
                sys.exit("the server exited:\n" + open(log_path).read()[-3000:])
            m = re.search(r"listening on (\S+)", open(out_path).read())
            mp = [re.search(r'\bport[=:" ]+(\d+)', l) for l in open(log_path) if "metrics at /metrics" in l]
            mp = mp[0] if mp else None
            if m and mp:
                address, metrics_port = m.group(1), int(mp.group(1))
                break
            time.sleep(0.1)
        if not address:
            sys.exit("no address or metrics port; see " + log_path)
        metrics_url = "http://127.0.0.1:%d/metrics" % metrics_port
        print("[%s] server at %s, metrics at %s, settings %s" % (profile, address, metrics_url, settings), file=sys.stderr)

        cli = lambda *args: run([a.dpq, *args, "--address", address])
        cli("collections", "create", COLLECTION, "--dimension", str(DIM), "--classes", str(CLASSES), "--hidden", "64",
            "--feature-dimension", "16", "--blocks", "4", "--codebook-size", "64")
        t0 = time.time()
        cli("train", COLLECTION, "--file", data["train"], "--labels", data["train_labels"], "--epochs", "5")
        cli("upsert", COLLECTION, "--file", data["db"], "--labels", data["db_labels"], "--batch-size", "2048")
        print("[%s] collection ready in %.1f s" % (profile, time.time() - t0), file=sys.stderr)
        host, port = address.rsplit(":", 1)
        url = "http://%s:%s/%s" % (host, port, METHOD)

        def h2load(c, m, n, log=None):
            cmd = [a.h2load, "-t", str(min(a.threads, c)), "-c", str(c), "-m", str(m), "-n", str(n),
                   "-H", "content-type: application/grpc", "-H", "te: trailers", "-d", data["body"]]
            if log:
                cmd += ["--log-file", log]
            p = subprocess.run(cmd + [url], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
            r = parse_h2load(p.stdout)
            r["exit"] = p.returncode
            if "req_per_s" not in r:
                sys.exit("h2load output not understood:\n" + p.stdout)
            return r, p.stdout

        # Check the request once: the server must count it as an OK Search.
        before = scrape(metrics_url)
        r, text = h2load(1, 1, 1)
        after = scrape(metrics_url)
        if delta(after, before) != {"ok": 1}:
            sys.exit("the pre-encoded Search did not come back OK: %s\n%s" % (delta(after, before), text))
        # Warm the server up (code paths, allocator) before the first point.
        h2load(8, 10, 20000)

        for c in cs:
            for m in ms:
                # In flight at once: h2load keeps at most the advertised SETTINGS_MAX_CONCURRENT_STREAMS
                # per connection open and queues the rest.
                cm = c * min(m, settings["connection.maxConcurrentStreams"])
                rss = RSSSampler(server.pid)
                before = scrape(metrics_url)
                pilot, _ = h2load(c, m, max(a.pilot_min, cm))
                mid = scrape(metrics_url)
                n = int(min(a.max_requests, max(a.waves * cm, pilot["req_per_s"] * a.seconds)))
                n = max(c, n // c * c)                      # h2load gives every connection n / c requests
                log = os.path.join(pdir, "h2load-c%d-m%d.log" % (c, m))
                load0 = os.getloadavg()[0]
                res, text = h2load(c, m, n, log)
                load1 = os.getloadavg()[0]
                after = scrape(metrics_url)
                peak = rss.stop()
                pilot_codes, codes = delta(mid, before), delta(after, mid)
                lat = percentiles(log)
                st = proc_status(server.pid)
                all_codes = delta(after, before)
                sent = pilot.get("done", 0) + res.get("done", 0)
                succeeded = pilot.get("succeeded", 0) + res.get("succeeded", 0)
                done = res.get("done", 0) or 1
                point = {
                    "connections": c, "streams": m, "in_flight": cm, "requests": n, "pilot_requests": pilot.get("total"),
                    "req_per_s": res["req_per_s"], "ok_per_s": res["req_per_s"] * codes.get("ok", 0) / done,
                    "seconds": res.get("seconds"),
                    "p50_ms": lat["p50_ms"], "p99_ms": lat["p99_ms"], "max_ms": lat["max_ms"],
                    "h2load": {k: res.get(k) for k in ["total", "started", "done", "succeeded", "failed", "errored", "timeout", "status", "time_for_request", "exit"]},
                    "h2load_failed": pilot.get("failed", 0) + res.get("failed", 0) + pilot.get("errored", 0) + res.get("errored", 0),
                    "grpc_codes": codes, "grpc_codes_pilot": pilot_codes,
                    "grpc_non_ok": sum(v for k, v in all_codes.items() if k != "ok"),
                    "grpc_ok_matches_h2load": all_codes.get("ok", 0) == succeeded == sent,
                    "server_peak_rss_mib": peak, "server_rss_after_mib": round(st.get("VmRSS", 0) / 1024, 1),
                    "server_threads": st.get("Threads"), "loadavg_1m": [round(load0, 2), round(load1, 2)],
                }
                points.append(point)
                print("[%s] -c %-3d -m %-5d %8s req/s  p50 %-9s p99 %-9s max %-9s h2load failed %d  gRPC %s  peak rss %.0f MiB  load %.1f-%.1f" % (
                    profile, c, m, fmt_int(point["req_per_s"]), fmt_ms(point["p50_ms"]), fmt_ms(point["p99_ms"]),
                    fmt_ms(point["max_ms"]), point["h2load_failed"], all_codes, peak, load0, load1), file=sys.stderr)
                if res.get("exit"):
                    print(text, file=sys.stderr)
    finally:
        server.send_signal(2)
        try:
            server.wait(timeout=60)
        except subprocess.TimeoutExpired:
            server.kill()
    return {"server_limits": profile, "server_settings": settings, "points": points}


def table(run):
    L = ["| connections | streams per connection | requests | req/s | p50 | p99 | h2load failed | gRPC non-OK | server peak RSS |",
         "|---|---|---|---|---|---|---|---|---|"]
    for p in run["points"]:
        bad = {}
        for codes in (p["grpc_codes_pilot"], p["grpc_codes"]):
            for k, v in codes.items():
                if k != "ok":
                    bad[k] = bad.get(k, 0) + v
        bad = ", ".join("%s %s" % (k, fmt_int(v)) for k, v in sorted(bad.items()))
        if bad:
            bad += " (%.0f%% of the measured run; OK calls/s %s)" % (
                100 - 100.0 * p["grpc_codes"].get("ok", 0) / max(1, p["h2load"]["done"]), fmt_int(p["ok_per_s"]))
        L.append("| %d | %d | %s | %s | %s | %s | %d | %s | %.0f MiB |" % (
            p["connections"], p["streams"], fmt_int(p["requests"]), fmt_int(p["req_per_s"]), fmt_ms(p["p50_ms"]),
            fmt_ms(p["p99_ms"]), p["h2load_failed"], bad or "0", p["server_peak_rss_mib"]))
    return L


# ---- main ----

def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dpq", required=True, help="the dpq binary (a release build)")
    ap.add_argument("--h2load", default="h2load")
    ap.add_argument("-c", "--connections", default="1,8,64")
    ap.add_argument("-m", "--streams", default="1,10,100,1000")
    ap.add_argument("--seconds", type=float, default=4.0, help="target length of each measured run")
    ap.add_argument("--waves", type=int, default=2, help="measured requests >= waves x calls in flight")
    ap.add_argument("--pilot-min", type=int, default=2000)
    ap.add_argument("--max-requests", type=int, default=400000)
    ap.add_argument("--threads", type=int, default=1, help="h2load -t")
    ap.add_argument("--server-limits", default="raised,default",
                    help="comma-separated sweeps, each against a fresh server. raised: limits.maxConcurrentRPCs and "
                         "--max-concurrent-streams admit every call of the largest point (the goals are checked on it); "
                         "default: the shipped 256 calls in all, 256 streams per connection")
    ap.add_argument("--items", type=int, default=20000)
    ap.add_argument("--k", type=int, default=10)
    ap.add_argument("--out", default=os.path.join(HERE, "results", "h2load.json"))
    ap.add_argument("--svg", default=os.path.join(HERE, "..", "docs", "img", "h2load.svg"), help="'' = no plot")
    ap.add_argument("--keep", action="store_true", help="keep the temporary folder (server logs, h2load logs)")
    a = ap.parse_args()
    a.cs = [int(x) for x in a.connections.split(",")]
    a.ms = [int(x) for x in a.streams.split(",")]
    profiles = a.server_limits.split(",")
    if any(p not in ("raised", "default") for p in profiles):
        sys.exit("--server-limits: raised and/or default")

    import numpy as np
    work = tempfile.mkdtemp(prefix="dpq-h2load-")
    rng = np.random.default_rng(20261130)
    # Generated clustered data: 10 classes in 32 dimensions.
    centers = rng.normal(0, 1, (CLASSES, DIM)).astype(np.float32)
    def sample(n):
        y = rng.integers(0, CLASSES, n)
        return (centers[y] + rng.normal(0, 0.6, (n, DIM))).astype(np.float32), y.astype(np.int64)
    xt, yt = sample(5000)
    xd, yd = sample(a.items)
    xq, _ = sample(1)
    data = {}
    for name, arr in [("train", xt), ("train_labels", yt), ("db", xd), ("db_labels", yd)]:
        data[name] = os.path.join(work, name + ".npy")
        np.save(data[name], arr)
    message = search_request(COLLECTION, [float(v) for v in xq[0]], a.k)
    data["body"] = os.path.join(work, "search.bin")
    with open(data["body"], "wb") as f:
        f.write(grpc_frame(message))

    t0 = time.time()
    runs = [sweep(a, profile, data, work) for profile in profiles]
    h2v = subprocess.run([a.h2load, "--version"], stdout=subprocess.PIPE, text=True).stdout.strip()
    result = {
        "command": " ".join(["bench/h2load_sweep.py"] + sys.argv[1:]),
        "date": time.strftime("%Y-%m-%d %H:%M:%S %Z"), "cpus": os.cpu_count(), "h2load": h2v,
        "h2load_threads": a.threads, "sweep_seconds": round(time.time() - t0, 1),
        "collection": {"items": a.items, "dimension": DIM, "classes": CLASSES, "hidden": [64], "feature_dimension": 16,
                       "blocks": 4, "codebook_size": 64},
        "request": {"queries": 1, "k": a.k, "bits": "full (24)", "grpc_frame_bytes": 5 + len(message)},
        "runs": runs,
    }
    if a.out:
        os.makedirs(os.path.dirname(os.path.abspath(a.out)), exist_ok=True)
        with open(a.out, "w") as f:
            json.dump(result, f, indent=1)
            f.write("\n")

    for run_ in runs:
        s = run_["server_settings"]
        print("\n%s server limits: limits.maxConcurrentRPCs %d, connection.maxConcurrentStreams %d\n" % (
            run_["server_limits"], s["limits.maxConcurrentRPCs"], s["connection.maxConcurrentStreams"]))
        print("\n".join(table(run_)))
        # Goals: 0 errors (h2load and gRPC) everywhere; per connection count, req/s at -m 100 >= at -m 1.
        pts = run_["points"]
        by = {(p["connections"], p["streams"]): p for p in pts}
        errors = sum(p["h2load_failed"] + p["grpc_non_ok"] for p in pts)
        print("\nerrors (h2load failed + errored, gRPC non-OK) over the sweep: %d" % errors)
        for c in a.cs:
            if (c, 1) in by and (c, 100) in by:
                r1, r100 = by[(c, 1)]["ok_per_s"], by[(c, 100)]["ok_per_s"]
                print("-c %d: OK calls/s at -m 100 %s vs -m 1 %s: %s" % (c, fmt_int(r100), fmt_int(r1), "met" if r100 >= r1 else "MISSED"))
    print("\nsweep took %.0f s" % result["sweep_seconds"])

    if a.svg:
        main_run = runs[0]
        by = {(p["connections"], p["streams"]): p for p in main_run["points"]}
        svg_plot = load_svg_plot()
        xticks = [(m, "%d" % m) for m in a.ms]
        panels = []
        for key, title, ylabel, fmt in [("req_per_s", "h2load -> dpq Search, throughput (%s server limits)" % main_run["server_limits"], "Search calls per second", "%.0f"),
                                        ("p99_ms", "p99 latency", "p99 ms (log)", "%.3g")]:
            series = [{"name": "-c %d connection%s" % (c, "" if c == 1 else "s"),
                       "points": [(m, by[(c, m)][key]) for m in a.ms if (c, m) in by and by[(c, m)][key]]} for c in a.cs]
            tmp = os.path.join(work, key + ".svg")
            svg_plot(tmp, title, "streams per connection (h2load -m, log)", ylabel, series, xlog=True,
                     ylog=key == "p99_ms", xticks=xticks, yfmt=fmt)
            panels.append(open(tmp).read())
        # Stack the two panels in one file.
        head = '<svg xmlns="http://www.w3.org/2000/svg" '
        w, h = [int(x) for x in re.search(r'width="(\d+)" height="(\d+)"', panels[0]).groups()]
        out = ['<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d">' % (w, 2 * h)]
        for i, p in enumerate(panels):
            out.append(p.strip().replace(head, '<svg y="%d" ' % (i * h), 1))
        out.append("</svg>")
        with open(a.svg, "w") as f:
            f.write("\n".join(out) + "\n")

    if a.keep:
        print("kept " + work, file=sys.stderr)
    else:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
