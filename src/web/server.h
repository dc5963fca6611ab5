// server.h — a small HTTP/1.1 server on POSIX sockets for ./alexnet serve.
//
// One thread accepts connections into a bounded queue; the workers of the
// program's ThreadPool take them one at a time: read one request (with a
// deadline for the whole of it, so a client that trickles bytes is dropped),
// answer it through the handler, close. When the queue is full a new
// connection is answered 503 at once. SIGINT or SIGTERM stops it cleanly.
//
// Leaves out: TLS, keep-alive, IPv6 (loopback or an IPv4 address).
#pragma once

#include <functional>
#include <string>

#include "web/http.h"

class ThreadPool;

struct ServerOptions {
    std::string host = "127.0.0.1";
    int port = 8080;                // 0: any free port (printed when listening)
    int read_timeout_ms = 10000;    // for the whole request, headers and body
    int max_queued = 64;            // connections waiting for a worker
};

// handler(request, worker) answers one request on worker `worker`
// (0 .. pool.size()-1), so that per-worker state needs no lock. It may throw:
// the client then gets a 500 with the message.
using HttpHandler = std::function<HttpResponse(const HttpRequest&, int worker)>;

// Listens, prints "listening on http://HOST:PORT/" (and flushes), serves until
// SIGINT or SIGTERM, then returns. Throws std::runtime_error if it cannot
// listen (address in use, bad host).
void serve_http(const ServerOptions& options, ThreadPool& pool, const HttpHandler& handler);
