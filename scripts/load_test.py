#!/usr/bin/env python3
"""A bounded loopback load test of ./alexnet serve (Python's standard library only).

  scripts/load_test.py PORT [IMAGE] [--requests 2000] [--clients 16]
                            [--hostile] [--train "epochs=1&steps=3000"] [--pid PID]

Phase 1: REQUESTS predictions from CLIENTS concurrent clients, each request
on a new connection ("Connection: close"); then the same with each client
keeping its connection alive: requests/s, median and p99 latency of each.
Phase 2: 500 predictions one at a time: the latency of a single request.
With --hostile, phase 2 runs while 64 idle connections, 2 clients trickling
a byte every 50 ms (before and after their requests) and 2 half-sent bodies
are held open. With --train FORM, a training run is started from the API
first (the page's form fields) and phase 2 measures while it runs; the run
is stopped at the end. With --pid, the server's resident memory is printed.
Every request must get a 200 with a digit; the script exits 1 otherwise.
"""
import argparse
import http.client
import json
import socket
import statistics
import sys
import threading
import time


def predict(connection, body, close):
    """One POST /api/predict on connection; returns (seconds, status, digit or None)."""
    start = time.perf_counter()
    headers = {"Content-Type": "image/png"}
    if close:
        headers["Connection"] = "close"
    try:
        connection.request("POST", "/api/predict", body=body, headers=headers)
        response = connection.getresponse()
        payload = response.read()
        status = response.status
    except (OSError, http.client.HTTPException) as e:
        connection.close()
        return time.perf_counter() - start, str(e), None
    digit = json.loads(payload).get("digit") if status == 200 else None
    return time.perf_counter() - start, status, digit


def percentile(values, p):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p / 100.0 * len(ordered)))]


def concurrent(port, body, requests, clients, keep_alive):
    results, lock, issued = [], threading.Lock(), [0]

    def client():
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        while True:
            with lock:
                if issued[0] >= requests:
                    break
                issued[0] += 1
            if not keep_alive:
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            outcome = predict(connection, body, close=not keep_alive)
            if not keep_alive:
                connection.close()
            with lock:
                results.append(outcome)
        connection.close()

    start = time.perf_counter()
    threads = [threading.Thread(target=client) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - start
    failures = [r for r in results if r[1] != 200 or r[2] is None]
    latencies = [1000 * r[0] for r in results]
    print("%s: %d requests from %d clients in %.2f s: %.0f requests/s, latency median %.1f ms, p99 %.1f ms, "
          "%d failed" % ("keep-alive" if keep_alive else "a connection per request", len(results), clients, elapsed,
                         len(results) / elapsed, statistics.median(latencies), percentile(latencies, 99),
                         len(failures)))
    return failures


class Hostile:
    """64 idle connections, 2 trickling clients, 2 half-sent bodies, held open."""

    def __init__(self, port):
        self.port, self.done, self.sockets, self.threads = port, False, [], []
        for _ in range(64):
            self.sockets.append(socket.create_connection(("127.0.0.1", port)))
        for _ in range(2):
            s = socket.create_connection(("127.0.0.1", port))
            s.sendall(b"POST /api/predict HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n0123456789")
            self.sockets.append(s)
        for _ in range(2):
            t = threading.Thread(target=self.trickle)
            t.start()
            self.threads.append(t)

    def trickle(self):
        s = socket.create_connection(("127.0.0.1", self.port))
        request = b"GET /api/model HTTP/1.1\r\nHost: x\r\n\r\n"
        k = 0
        while not self.done:
            try:
                s.send(request[k % len(request):k % len(request) + 1])
            except OSError:  # dropped by the server: come back, as a stubborn client would
                s = socket.create_connection(("127.0.0.1", self.port))
            k += 1
            time.sleep(0.05)
        s.close()

    def close(self):
        self.done = True
        for t in self.threads:
            t.join()
        for s in self.sockets:
            s.close()


def api(port, method, path, body=None):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    connection.request(method, path, body=body, headers={"Content-Type": "application/x-www-form-urlencoded"})
    response = connection.getresponse()
    payload = response.read()
    connection.close()
    return response.status, json.loads(payload)


def resident_mb(pid):
    with open("/proc/%d/status" % pid) as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024.0
    return float("nan")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("port", type=int)
    parser.add_argument("image", nargs="?", default="tests/data/png/drawn_4_rgba.png")
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--single", type=int, default=500)
    parser.add_argument("--hostile", action="store_true")
    parser.add_argument("--train", default=None)
    parser.add_argument("--pid", type=int, default=0)
    args = parser.parse_args()
    body = open(args.image, "rb").read()

    if args.train is not None:
        status, state = api(args.port, "POST", "/api/train/start", args.train)
        if status != 202:
            print("could not start a training run:", state, file=sys.stderr)
            sys.exit(1)
        while api(args.port, "GET", "/api/train")[1]["state"] != "running":
            time.sleep(0.1)
        print("training from the page:", api(args.port, "GET", "/api/train")[1]["description"])

    failures = concurrent(args.port, body, args.requests, args.clients, keep_alive=False)
    failures += concurrent(args.port, body, args.requests, args.clients, keep_alive=True)
    if args.pid:
        print("server resident memory: %.1f MB" % resident_mb(args.pid))

    hostile = Hostile(args.port) if args.hostile else None
    time.sleep(0.2)
    connection = http.client.HTTPConnection("127.0.0.1", args.port, timeout=30)
    single = [predict(connection, body, close=False) for _ in range(args.single)]
    connection.close()
    if hostile:
        hostile.close()
    single_failures = [r for r in single if r[1] != 200]
    single_ms = [1000 * r[0] for r in single]
    print("one at a time%s%s: %d requests, latency median %.2f ms, p99 %.2f ms, max %.2f ms, %d failed"
          % (" beside 64 idle, 2 trickling and 2 half-sent clients" if hostile else "",
             " while training" if args.train is not None else "", len(single), statistics.median(single_ms),
             percentile(single_ms, 99), max(single_ms), len(single_failures)))
    if args.train is not None:
        status, state = api(args.port, "GET", "/api/train")
        print("training run: %s, step %d of %d" % (state["state"], state["step"], state["last_step"]))
        api(args.port, "POST", "/api/train/stop")
    if failures or single_failures:
        print("failures:", (failures + single_failures)[:5], file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
