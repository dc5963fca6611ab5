// server.h — a small HTTP/1.1 server on POSIX sockets for ./alexnet serve,
// built so that no client can stall it for the others.
//
// One thread, the event loop, owns every socket: it accepts, reads each
// request to its end under a deadline counted from the moment the request
// began (accept, or the first byte on a kept-alive connection) and within
// byte limits, writes the responses, keeps idle connections for a bounded
// time and a bounded number of requests, and feeds the long-lived
// Server-Sent Events streams. It never waits on a socket: everything is
// non-blocking and multiplexed with poll(). Compute workers (plain threads)
// only ever see complete requests; they never touch a socket.
//
// Over capacity it says so: a complete request finding every worker busy and
// the queue full is answered 503; a connection beyond the connection limit is
// answered 503 at once and closed; out of file descriptors, the loop backs
// off accepting instead of spinning. Bytes that cannot begin a request are
// refused at once (400). SIGINT or SIGTERM stops it cleanly.
//
// Leaves out: TLS, HTTP/2, IPv6 (loopback or an IPv4 address), chunked
// request bodies, epoll (poll is plenty for the connection limit here).
#pragma once

#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "web/http.h"

struct ServerOptions {
    std::string host = "127.0.0.1";
    int port = 8080;                       // 0: any free port (printed when listening)
    int workers = 1;                       // compute threads
    int read_timeout_ms = 10000;           // a request must arrive whole within this
    int idle_timeout_ms = 5000;            // a kept-alive connection may wait this long for its next request
    int write_timeout_ms = 10000;          // a response (or an event) must be taken by the client within this
    int max_requests_per_connection = 100;
    int max_queued = 64;                   // complete requests waiting for a worker; beyond, 503
    int max_connections = 1024;            // open connections; also capped by the file-descriptor limit
    size_t max_stream_backlog = 4 << 20;   // bytes an event stream may fall behind before it is dropped
};

// Server-Sent Events that any thread may publish; the event loop sends each
// to every open stream, and a new stream first receives the events of the
// story so far (the replay).
class EventHub {
public:
    // latest_only: in the replay, this event replaces the earlier one of the
    // same name (for a picture that supersedes the last one).
    void publish(const std::string& name, const std::string& data, bool latest_only = false);
    // A new story: new streams no longer see the old events, open ones get a
    // "reset" event.
    void reset();

    // For the event loop.
    struct Event {
        uint64_t sequence;
        std::string bytes;  // formatted (format_event)
    };
    std::vector<Event> take_new();                  // published since the last call, in order
    std::string replay(uint64_t* last_sequence);    // the story so far, and the sequence it ends at
    void set_wake(std::function<void()> wake);

private:
    std::mutex mutex_;
    uint64_t next_sequence_ = 1;
    std::vector<std::pair<std::string, Event>> story_;  // (name, event) for the replay
    std::vector<Event> pending_;
    std::function<void()> wake_;
};

// handler(request, worker) answers one complete request on worker `worker`
// (0 .. workers-1), so that per-worker state needs no lock. It may throw:
// the client then gets a 500 with the message. A HEAD request reaches it as
// a GET; the server sends only the headers.
using HttpHandler = std::function<HttpResponse(const HttpRequest&, int worker)>;

// Listens, prints "listening on http://HOST:PORT/" (and flushes), serves until
// SIGINT or SIGTERM, then returns. Throws std::runtime_error if it cannot
// listen (address in use, bad host). events may be null (no streams).
void serve_http(const ServerOptions& options, const HttpHandler& handler, EventHub* events);
