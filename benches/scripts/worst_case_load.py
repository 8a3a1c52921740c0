#!/usr/bin/env python3
"""Worst-case load on a running `neotrav serve`: N concurrent requests, each as expensive as the
request language allows (hub starts with every default, NONE and NODE_PATH walks returning
paths, whole-label starts, all shortest paths between hubs), while /healthz is asked every 10 ms
on its own thread. Prints each request's status, the slowest and p99 /healthz, and exits 1 if a
request got anything but 200, 4xx or 503 over_capacity, or /healthz failed.

    neotrav dataset snapshot discogs --scale 0.1 --out d.snap
    /usr/bin/time -v neotrav serve --no-neo4j --snapshot d.snap --max-memory 2GiB &
    python3 benches/scripts/worst_case_load.py http://127.0.0.1:7475 --concurrency 64 --rounds 3

Standard library only.
"""

import argparse
import http.client
import json
import sys
import threading
import time
import urllib.parse
from concurrent.futures import ThreadPoolExecutor


def post(base, path, body, timeout=600):
    u = urllib.parse.urlparse(base)
    c = http.client.HTTPConnection(u.hostname, u.port, timeout=timeout)
    data = json.dumps(body).encode()
    c.request("POST", path, data, {"Content-Type": "application/json"})
    r = c.getresponse()
    payload = r.read()
    c.close()
    return r.status, payload


def ids(base, label, limit):
    status, payload = post(base, "/v1/traverse", {"start": {"label": label}, "maxLevel": 0, "limit": limit})
    assert status == 200, payload[:300]
    return json.loads(payload)["nodes"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("url")
    ap.add_argument("--concurrency", type=int, default=64)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    base = args.url.rstrip("/")
    genres = ids(base, "Genre", 16)
    artists = ids(base, "Artist", 64)
    shapes = [
        lambda i: ("/v1/traverse", {"start": genres[i % len(genres)]}),
        lambda i: ("/v1/traverse", {"start": genres[i % len(genres)], "uniqueness": "NONE", "maxLevel": 6, "return": "paths", "budget": {"onExceed": "partial"}}),
        lambda i: ("/v1/traverse", {"start": genres[i % len(genres)], "uniqueness": "NODE_PATH", "bfs": False, "return": "paths"}),
        lambda i: ("/v1/traverse", {"start": {"label": "Release"}, "uniqueness": "NODE_GLOBAL"}),
        lambda i: ("/v1/traverse", {"start": genres[i % len(genres)], "uniqueness": "RELATIONSHIP_GLOBAL", "return": "paths"}),
        lambda i: ("/v1/shortest-path", {"from": genres[i % len(genres)], "to": genres[(i + 1) % len(genres)], "all": True}),
        lambda i: ("/v1/shortest-path", {"from": artists[i % len(artists)], "to": artists[(i + 7) % len(artists)], "all": True}),
        lambda i: ("/v1/traverse", {"start": genres[i % len(genres)], "maxLevel": 5, "return": "count"}),
    ]
    stop = threading.Event()
    health = []
    failures = []

    def probe():
        u = urllib.parse.urlparse(base)
        while not stop.is_set():
            t = time.perf_counter()
            try:
                c = http.client.HTTPConnection(u.hostname, u.port, timeout=10)
                c.request("GET", "/healthz")
                r = c.getresponse()
                r.read()
                c.close()
                if r.status != 200:
                    failures.append(f"/healthz {r.status}")
            except Exception as e:  # noqa: BLE001 - any failure is reported
                failures.append(f"/healthz {e}")
            health.append(time.perf_counter() - t)
            time.sleep(0.01)

    prober = threading.Thread(target=probe)
    prober.start()
    statuses = {}
    started = time.perf_counter()

    def one(i):
        path, body = shapes[i % len(shapes)](i)
        status, payload = post(base, path, body)
        code = None
        if status != 200:
            try:
                code = json.loads(payload)["error"]["code"]
            except Exception:  # noqa: BLE001
                code = "not in the error shape"
        ok = status == 200 or 400 <= status < 500 or (status == 503 and code == "over_capacity")
        if not ok or code == "not in the error shape":
            failures.append(f"{path} {body}: {status} {payload[:200]!r}")
        return f"{status} {code or ''}".strip()

    with ThreadPoolExecutor(args.concurrency) as pool:
        for s in pool.map(one, range(args.concurrency * args.rounds)):
            statuses[s] = statuses.get(s, 0) + 1
    elapsed = time.perf_counter() - started
    stop.set()
    prober.join()
    health.sort()
    p99 = health[int(len(health) * 0.99) - 1] if health else float("nan")
    print(f"{args.concurrency * args.rounds} requests, {args.concurrency} at once, in {elapsed:.1f} s: {statuses}")
    print(f"/healthz: {len(health)} probes, p50 {health[len(health) // 2] * 1e3:.1f} ms, p99 {p99 * 1e3:.1f} ms, slowest {health[-1] * 1e3:.1f} ms")
    for f in failures[:20]:
        print("FAILED:", f)
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
