#!/usr/bin/env python3
"""A bounded loopback load test of ./alexnet serve.

  scripts/load_test.py PORT [IMAGE] [--requests 2000] [--clients 16]

Phase 1: REQUESTS predictions from CLIENTS concurrent clients (each request on
its own connection, as the server closes after each answer): requests/s,
median and p99 latency. Phase 2: 200 predictions one at a time: the latency
of a single request with the server otherwise idle. Every request must get a
200 with a digit; the script exits 1 otherwise. Python's standard library only.
"""
import argparse
import http.client
import json
import statistics
import sys
import threading
import time


def predict(port, body):
    """One POST /api/predict; returns (seconds, status, digit or None)."""
    start = time.perf_counter()
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request("POST", "/api/predict", body=body, headers={"Content-Type": "image/png"})
        response = connection.getresponse()
        payload = response.read()
        status = response.status
    except OSError as e:
        return time.perf_counter() - start, str(e), None
    finally:
        connection.close()
    digit = json.loads(payload).get("digit") if status == 200 else None
    return time.perf_counter() - start, status, digit


def percentile(values, p):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p / 100.0 * len(ordered)))]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("port", type=int)
    parser.add_argument("image", nargs="?", default="tests/data/png/drawn_4_rgba.png")
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--clients", type=int, default=16)
    args = parser.parse_args()
    body = open(args.image, "rb").read()

    results = []
    lock = threading.Lock()
    next_request = [0]

    def client():
        while True:
            with lock:
                if next_request[0] >= args.requests:
                    return
                next_request[0] += 1
            outcome = predict(args.port, body)
            with lock:
                results.append(outcome)

    start = time.perf_counter()
    threads = [threading.Thread(target=client) for _ in range(args.clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - start
    failures = [r for r in results if r[1] != 200 or r[2] is None]
    latencies = [1000 * r[0] for r in results]
    print("load: %d requests from %d clients in %.2f s: %.0f requests/s, latency median %.1f ms, p99 %.1f ms, "
          "%d answered 200, %d failed" % (len(results), args.clients, elapsed, len(results) / elapsed,
                                          statistics.median(latencies), percentile(latencies, 99),
                                          len(results) - len(failures), len(failures)))

    single = [predict(args.port, body) for _ in range(200)]
    single_failures = [r for r in single if r[1] != 200]
    single_ms = [1000 * r[0] for r in single]
    print("one at a time: 200 requests, latency median %.2f ms, p99 %.2f ms, %d failed"
          % (statistics.median(single_ms), percentile(single_ms, 99), len(single_failures)))
    if failures or single_failures or len(results) != args.requests:
        print("failures:", (failures + single_failures)[:5], file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
