// server.cpp — sockets, the connection queue, and one connection's life:
// read until parse_http_request has a whole request (or the deadline passes,
// or the client breaks a limit), answer, close.
#include "web/server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <deque>
#include <mutex>
#include <stdexcept>
#include <thread>

#include "fast/thread_pool.h"

namespace {

// Set by SIGINT / SIGTERM; the accept loop polls it.
std::atomic<int> g_stop{0};
extern "C" void on_stop_signal(int signal) { g_stop = signal; }

// Sends all of bytes, unless the client has gone (then gives up quietly).
// MSG_NOSIGNAL: a closed peer gives EPIPE, not a SIGPIPE that kills the program.
void send_all(int fd, const std::string& bytes) {
    size_t sent = 0;
    while (sent < bytes.size()) {
        const ssize_t n = ::send(fd, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return;
        sent += static_cast<size_t>(n);
    }
}

ParseResult timeout_error(int timeout_ms) {
    ParseResult timeout;
    timeout.kind = ParseResult::Error;
    timeout.status = 408;
    char message[80];
    std::snprintf(message, sizeof message, "the request did not arrive within %.1f s", timeout_ms / 1000.0);
    timeout.message = message;
    return timeout;
}

// Reads one request within the deadline. Returns the parse result; on
// Complete, *request holds it. A timeout is reported as a 408 error.
ParseResult read_request(int fd, int timeout_ms, HttpRequest* request) {
    using Clock = std::chrono::steady_clock;
    const auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
    std::string received;
    char buffer[16384];
    for (;;) {
        const ParseResult r = parse_http_request(received, request);
        if (r.kind != ParseResult::Incomplete) return r;
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
        if (left <= 0) return timeout_error(timeout_ms);
        pollfd p{fd, POLLIN, 0};
        const int ready = ::poll(&p, 1, static_cast<int>(left));
        if (ready < 0 && errno == EINTR) continue;
        if (ready <= 0) return timeout_error(timeout_ms);
        const ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {  // the client closed (or reset) before a whole request
            ParseResult gone;
            gone.kind = ParseResult::Error;
            gone.status = 0;  // nobody to answer
            return gone;
        }
        received.append(buffer, static_cast<size_t>(n));
    }
}

void handle_connection(int fd, const ServerOptions& options, const HttpHandler& handler, int worker) {
    HttpRequest request;
    const ParseResult parsed = read_request(fd, options.read_timeout_ms, &request);
    HttpResponse response;
    if (parsed.kind == ParseResult::Error) {
        if (parsed.status == 0) return;
        response = json_error(parsed.status, parsed.message);
    } else {
        try {
            response = handler(request, worker);
        } catch (const std::exception& e) {
            response = json_error(500, e.what());
        }
    }
    send_all(fd, format_http_response(response));
    // Half-close, then drain briefly: closing with unread request bytes would
    // reset the connection and could destroy the response in flight.
    ::shutdown(fd, SHUT_WR);
    char sink[4096];
    pollfd p{fd, POLLIN, 0};
    while (::poll(&p, 1, 100) > 0 && ::recv(fd, sink, sizeof sink, 0) > 0) {
    }
}

// Connections accepted but not yet taken by a worker.
class ConnectionQueue {
public:
    explicit ConnectionQueue(size_t capacity) : capacity_(capacity) {}
    bool push(int fd) {  // false if full
        std::lock_guard<std::mutex> lock(mutex_);
        if (fds_.size() >= capacity_) return false;
        fds_.push_back(fd);
        ready_.notify_one();
        return true;
    }
    int pop() {  // -1 once closed and empty
        std::unique_lock<std::mutex> lock(mutex_);
        ready_.wait(lock, [&] { return !fds_.empty() || closed_; });
        if (fds_.empty()) return -1;
        const int fd = fds_.front();
        fds_.pop_front();
        return fd;
    }
    void close() {
        std::lock_guard<std::mutex> lock(mutex_);
        closed_ = true;
        ready_.notify_all();
    }

private:
    std::mutex mutex_;
    std::condition_variable ready_;
    std::deque<int> fds_;
    size_t capacity_;
    bool closed_ = false;
};

int listen_on(const ServerOptions& options) {
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(static_cast<uint16_t>(options.port));
    const std::string host = options.host == "localhost" ? "127.0.0.1" : options.host;
    if (::inet_pton(AF_INET, host.c_str(), &address.sin_addr) != 1)
        throw std::runtime_error("--host " + options.host + ": not an IPv4 address (such as 127.0.0.1 or 0.0.0.0)");
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) throw std::runtime_error(std::string("socket: ") + std::strerror(errno));
    const int yes = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
    if (::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 || ::listen(fd, 128) != 0) {
        const std::string problem = std::strerror(errno);
        ::close(fd);
        throw std::runtime_error(options.host + ":" + std::to_string(options.port) + ": cannot listen (" + problem + ")");
    }
    return fd;
}

}  // namespace

void serve_http(const ServerOptions& options, ThreadPool& pool, const HttpHandler& handler) {
    const int listener = listen_on(options);
    sockaddr_in bound{};
    socklen_t length = sizeof bound;
    ::getsockname(listener, reinterpret_cast<sockaddr*>(&bound), &length);
    std::printf("listening on http://%s:%d/\n", options.host.c_str(), ntohs(bound.sin_port));
    std::fflush(stdout);

    g_stop = 0;
    struct sigaction action {}, old_int {}, old_term {};
    action.sa_handler = on_stop_signal;
    sigemptyset(&action.sa_mask);
    sigaction(SIGINT, &action, &old_int);
    sigaction(SIGTERM, &action, &old_term);

    ConnectionQueue queue(static_cast<size_t>(options.max_queued));
    // The workers: every thread of the pool runs this loop until the queue closes.
    std::thread workers([&] {
        pool.run(pool.size(), [&](int worker) {
            for (int fd; (fd = queue.pop()) >= 0;) {
                handle_connection(fd, options, handler, worker);
                ::close(fd);
            }
        });
    });
    while (g_stop == 0) {
        pollfd p{listener, POLLIN, 0};
        if (::poll(&p, 1, 200) <= 0) continue;  // wake up now and then to see g_stop
        const int fd = ::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);
        if (fd < 0) continue;
        if (!queue.push(fd)) {
            send_all(fd, format_http_response(json_error(503, "the server is busy; try again")));
            ::close(fd);
        }
    }
    ::close(listener);
    queue.close();
    workers.join();
    sigaction(SIGINT, &old_int, nullptr);
    sigaction(SIGTERM, &old_term, nullptr);
    std::printf("stopped (signal %d)\n", g_stop.load());
}
