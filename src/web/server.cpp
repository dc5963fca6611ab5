// server.cpp — the event loop, the connections' states, the workers and the
// event streams. See server.h for what it promises.
//
// A connection is always in one state:
//
//   Reading ──request whole──► Waiting (a worker has it) ──response──► Writing
//      ▲                                                                 │
//      └──── Idle (kept alive, next request not begun) ◄── sent, keep ───┤
//                                                                        └─ sent, close ─► Draining ─► closed
//   Streaming: a Server-Sent Events stream, fed by the EventHub until the client goes.
//
// and has one deadline, checked by the loop: a request not whole in time is
// answered 408; an idle connection, an unread response or a slow drain is
// closed.
#include "web/server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/resource.h>
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
#include <map>
#include <memory>
#include <stdexcept>
#include <thread>

// ---------------------------------------------------------------------------
// EventHub

void EventHub::publish(const std::string& name, const std::string& data, bool latest_only) {
    std::function<void()> wake;
    {
        std::lock_guard<std::mutex> lock(mutex_);
        const Event event{next_sequence_++, format_event(name, data)};
        if (latest_only)
            for (auto it = story_.begin(); it != story_.end(); ++it)
                if (it->first == name) {
                    story_.erase(it);
                    break;
                }
        story_.emplace_back(name, event);
        pending_.push_back(event);
        wake = wake_;
    }
    if (wake) wake();
}

void EventHub::reset() {
    std::function<void()> wake;
    {
        std::lock_guard<std::mutex> lock(mutex_);
        story_.clear();
        pending_.push_back({next_sequence_++, format_event("reset", "{}")});
        wake = wake_;
    }
    if (wake) wake();
}

std::vector<EventHub::Event> EventHub::take_new() {
    std::lock_guard<std::mutex> lock(mutex_);
    std::vector<Event> events;
    events.swap(pending_);
    return events;
}

std::string EventHub::replay(uint64_t* last_sequence) {
    std::lock_guard<std::mutex> lock(mutex_);
    std::string bytes;
    for (const auto& named : story_) bytes += named.second.bytes;
    *last_sequence = next_sequence_ - 1;
    return bytes;
}

void EventHub::set_wake(std::function<void()> wake) {
    std::lock_guard<std::mutex> lock(mutex_);
    wake_ = std::move(wake);
}

// ---------------------------------------------------------------------------
// The loop

namespace {

using Clock = std::chrono::steady_clock;

// Written by SIGINT / SIGTERM, read by the loop; the handler also writes a
// byte to the wake pipe so that poll() returns whichever thread got the signal.
std::atomic<int> g_stop{0};
std::atomic<int> g_wake_fd{-1};
static_assert(std::atomic<int>::is_always_lock_free, "the signal handler needs a lock-free atomic");

extern "C" void on_stop_signal(int signal) {
    g_stop = signal;
    const int fd = g_wake_fd.load();
    if (fd >= 0) {
        const char byte = 1;
        [[maybe_unused]] const ssize_t n = ::write(fd, &byte, 1);
    }
}

int listen_on(const ServerOptions& options) {
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(static_cast<uint16_t>(options.port));
    const std::string host = options.host == "localhost" ? "127.0.0.1" : options.host;
    if (::inet_pton(AF_INET, host.c_str(), &address.sin_addr) != 1)
        throw std::runtime_error("--host " + options.host + ": not an IPv4 address (such as 127.0.0.1 or 0.0.0.0)");
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) throw std::runtime_error(std::string("socket: ") + std::strerror(errno));
    const int yes = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
    if (::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 || ::listen(fd, 512) != 0) {
        const std::string problem = std::strerror(errno);
        ::close(fd);
        throw std::runtime_error(options.host + ":" + std::to_string(options.port) + ": cannot listen (" + problem + ")");
    }
    return fd;
}

bool is_loopback(const sockaddr_in& peer) { return (ntohl(peer.sin_addr.s_addr) >> 24) == 127; }

// The jobs of the compute workers and their answers. Workers block on the
// job queue; the loop never blocks on either.
struct Job {
    uint64_t connection;
    HttpRequest request;
};
struct Answer {
    uint64_t connection;
    HttpResponse response;
};

class Workers {
public:
    Workers(int count, const HttpHandler& handler, std::function<void()> wake) : handler_(handler), wake_(std::move(wake)) {
        for (int w = 0; w < count; ++w) threads_.emplace_back([this, w] { work(w); });
    }
    ~Workers() {
        {
            std::lock_guard<std::mutex> lock(mutex_);
            closed_ = true;
        }
        ready_.notify_all();
        for (std::thread& t : threads_) t.join();
    }
    // False if `limit` jobs are already waiting.
    bool submit(Job job, size_t limit) {
        {
            std::lock_guard<std::mutex> lock(mutex_);
            if (jobs_.size() >= limit) return false;
            jobs_.push_back(std::move(job));
        }
        ready_.notify_one();
        return true;
    }
    std::vector<Answer> take_answers() {
        std::lock_guard<std::mutex> lock(mutex_);
        std::vector<Answer> answers(std::make_move_iterator(answers_.begin()), std::make_move_iterator(answers_.end()));
        answers_.clear();
        return answers;
    }

private:
    void work(int worker) {
        for (;;) {
            Job job;
            {
                std::unique_lock<std::mutex> lock(mutex_);
                ready_.wait(lock, [this] { return closed_ || !jobs_.empty(); });
                if (jobs_.empty()) return;  // closed
                job = std::move(jobs_.front());
                jobs_.pop_front();
            }
            Answer answer{job.connection, {}};
            try {
                answer.response = handler_(job.request, worker);
            } catch (const std::exception& e) {
                answer.response = json_error(500, e.what());
            }
            {
                std::lock_guard<std::mutex> lock(mutex_);
                answers_.push_back(std::move(answer));
            }
            wake_();
        }
    }

    const HttpHandler& handler_;
    std::function<void()> wake_;
    std::mutex mutex_;
    std::condition_variable ready_;
    std::deque<Job> jobs_;
    std::deque<Answer> answers_;
    bool closed_ = false;
    std::vector<std::thread> threads_;
};

enum class State { Reading, Idle, Waiting, Writing, Draining, Streaming };

struct Connection {
    int fd = -1;
    State state = State::Reading;
    Clock::time_point deadline;
    std::string in;        // received, not yet parsed
    std::string out;       // to send, from out_sent on
    size_t out_sent = 0;
    size_t drained = 0;    // bytes read and dropped while Draining or Streaming
    int requests = 0;      // requests answered on this connection
    bool keep_alive = false, head = false, continue_sent = false, loopback = false;
    uint64_t stream_seen = 0;  // Streaming: the last event sequence already in out
    Clock::time_point last_event;

    bool wants_read() const { return state == State::Reading || state == State::Idle || state == State::Draining ||
                                     state == State::Streaming; }
    bool wants_write() const { return out_sent < out.size(); }
};

constexpr size_t kReadChunk = 64 * 1024;
constexpr size_t kMaxDrainBytes = 64 * 1024;      // what a closing client may still send us
constexpr auto kDrainTime = std::chrono::milliseconds(1000);
constexpr auto kAcceptBackoff = std::chrono::milliseconds(100);
constexpr auto kStreamHeartbeat = std::chrono::seconds(15);
// Descriptors kept for everything but connections: the listener, the wake
// pipe, the spare, data and checkpoint files of a training run, ...
constexpr int64_t kReservedDescriptors = 16;

class Loop {
public:
    Loop(const ServerOptions& options, const HttpHandler& handler, EventHub* events)
        : options_(options), events_(events) {
        int pipe_fds[2];
        if (::pipe2(pipe_fds, O_NONBLOCK | O_CLOEXEC) != 0) throw std::runtime_error("pipe: cannot create");
        wake_read_ = pipe_fds[0];
        wake_write_ = pipe_fds[1];
        listener_ = listen_on(options);
        // A spare descriptor, given up for a moment when the process runs out
        // of them, so that the connection waiting can still be accepted and told 503.
        spare_fd_ = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
        rlimit limit{};
        max_connections_ = options.max_connections;
        if (::getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur != RLIM_INFINITY)
            max_connections_ = std::max<int64_t>(1, std::min<int64_t>(max_connections_, static_cast<int64_t>(limit.rlim_cur) - kReservedDescriptors));
        const auto wake = [fd = wake_write_] {
            const char byte = 1;
            [[maybe_unused]] const ssize_t n = ::write(fd, &byte, 1);
        };
        if (events_) events_->set_wake(wake);
        workers_ = std::make_unique<Workers>(options.workers, handler, wake);
    }

    ~Loop() {
        workers_.reset();  // joins the workers first: they may still wake us
        if (events_) events_->set_wake(nullptr);
        for (auto& [id, c] : connections_) ::close(c.fd);
        ::close(listener_);
        ::close(wake_read_);
        ::close(wake_write_);
        if (spare_fd_ >= 0) ::close(spare_fd_);
    }

    int port() const {
        sockaddr_in bound{};
        socklen_t length = sizeof bound;
        ::getsockname(listener_, reinterpret_cast<sockaddr*>(&bound), &length);
        return ntohs(bound.sin_port);
    }
    int wake_fd() const { return wake_write_; }

    void run() {
        std::vector<pollfd> fds;
        std::vector<uint64_t> ids;  // the connection of fds[i], for i >= 2
        while (g_stop == 0) {
            const auto now = Clock::now();
            fds.clear();
            ids.clear();
            const bool accepting = now >= accept_again_ && static_cast<int64_t>(connections_.size()) < max_connections_;
            fds.push_back({wake_read_, POLLIN, 0});
            fds.push_back({listener_, static_cast<short>(accepting ? POLLIN : 0), 0});
            auto next = now + std::chrono::seconds(1);
            if (!accepting && accept_again_ > now) next = std::min(next, accept_again_);
            for (auto& [id, c] : connections_) {
                short events = 0;
                if (c.wants_read()) events |= POLLIN;
                if (c.wants_write()) events |= POLLOUT;
                fds.push_back({c.fd, events, 0});
                ids.push_back(id);
                if (c.state != State::Waiting && c.state != State::Streaming) next = std::min(next, c.deadline);
            }
            const int timeout = static_cast<int>(std::max<int64_t>(
                0, std::chrono::duration_cast<std::chrono::milliseconds>(next - now).count() + 1));
            const int ready = ::poll(fds.data(), fds.size(), timeout);
            if (ready < 0 && errno != EINTR) throw std::runtime_error(std::string("poll: ") + std::strerror(errno));
            if (g_stop != 0) break;
            if (ready > 0 && (fds[0].revents & POLLIN)) drain_wake_pipe();
            if (ready > 0 && (fds[1].revents & POLLIN)) accept_connections();
            for (size_t i = 2; ready > 0 && i < fds.size(); ++i)
                if (fds[i].revents) on_ready(ids[i - 2], fds[i].revents);
            deliver_answers();
            deliver_events();
            expire(Clock::now());
        }
    }

private:
    void drain_wake_pipe() {
        char buffer[256];
        while (::read(wake_read_, buffer, sizeof buffer) > 0) {
        }
    }

    // ---- Accepting

    void accept_connections() {
        for (int k = 0; k < 64; ++k) {
            sockaddr_in peer{};
            socklen_t length = sizeof peer;
            const int fd = ::accept4(listener_, reinterpret_cast<sockaddr*>(&peer), &length, SOCK_CLOEXEC | SOCK_NONBLOCK);
            if (fd < 0) {
                if (errno == EMFILE || errno == ENFILE) refuse_without_descriptors();
                return;  // EAGAIN: all taken; other errors: the next round tries again
            }
            if (static_cast<int64_t>(connections_.size()) >= max_connections_) {
                refuse(fd);
                continue;
            }
            Connection c;
            c.fd = fd;
            c.loopback = is_loopback(peer);
            c.deadline = Clock::now() + std::chrono::milliseconds(options_.read_timeout_ms);  // from accept
            connections_.emplace(next_id_++, std::move(c));
        }
    }

    // Answered at once, without reading: there is no room to hold the connection.
    static void refuse(int fd) {
        const std::string busy = format_http_response(json_error(503, "the server has too many connections; try again"), false);
        [[maybe_unused]] const ssize_t n = ::send(fd, busy.data(), busy.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
        ::shutdown(fd, SHUT_WR);
        ::close(fd);
    }

    // Out of file descriptors: free the spare one, take the waiting
    // connection, refuse it, take the spare back; and stop accepting for a
    // moment instead of spinning on a listener that stays ready.
    void refuse_without_descriptors() {
        if (spare_fd_ >= 0) {
            ::close(spare_fd_);
            const int fd = ::accept4(listener_, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
            if (fd >= 0) refuse(fd);
            spare_fd_ = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
        }
        accept_again_ = Clock::now() + kAcceptBackoff;
    }

    // ---- Reading and writing

    void on_ready(uint64_t id, short revents) {
        auto it = connections_.find(id);
        if (it == connections_.end()) return;
        Connection& c = it->second;
        if (revents & (POLLERR | POLLNVAL)) return close(id);
        if (revents & POLLOUT) {
            if (!write_some(c)) return close(id);
            if (!c.wants_write()) sent(id, c);
            if (connections_.find(id) == connections_.end()) return;
        }
        if (revents & (POLLIN | POLLHUP)) read_some(id, c);
    }

    // Sends what the socket takes now; false if the client is gone.
    static bool write_some(Connection& c) {
        while (c.out_sent < c.out.size()) {
            const ssize_t n = ::send(c.fd, c.out.data() + c.out_sent, c.out.size() - c.out_sent, MSG_NOSIGNAL);
            if (n < 0 && errno == EINTR) continue;
            if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
            if (n <= 0) return false;
            c.out_sent += static_cast<size_t>(n);
        }
        if (c.out_sent == c.out.size()) {
            c.out.clear();
            c.out_sent = 0;
        }
        return true;
    }

    void read_some(uint64_t id, Connection& c) {
        char buffer[kReadChunk];
        const ssize_t n = ::recv(c.fd, buffer, sizeof buffer, 0);
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) return;
        if (n <= 0) return close(id);  // the client closed (or reset)
        if (c.state == State::Draining || c.state == State::Streaming) {
            // Nothing more is read from these: count it, and drop a client
            // that keeps sending.
            c.drained += static_cast<size_t>(n);
            if (c.drained > kMaxDrainBytes) close(id);
            return;
        }
        if (c.state == State::Idle) {  // the next request begins: its own deadline
            c.state = State::Reading;
            c.deadline = Clock::now() + std::chrono::milliseconds(options_.read_timeout_ms);
        }
        c.in.append(buffer, static_cast<size_t>(n));
        parse(id, c);
    }

    // Turns the bytes read into a request, an early error or a wait for more.
    void parse(uint64_t id, Connection& c) {
        HttpRequest request;
        const ParseResult r = parse_http_request(c.in, &request);
        if (r.kind == ParseResult::Incomplete) {
            if (r.send_continue && !c.continue_sent) {
                c.out += "HTTP/1.1 100 Continue\r\n\r\n";
                c.continue_sent = true;
            }
            return;
        }
        if (r.kind == ParseResult::Error) return answer(c, json_error(r.status, r.message), /*keep=*/false);
        c.in.erase(0, r.consumed);
        ++c.requests;
        c.keep_alive = request.keep_alive() && c.requests < options_.max_requests_per_connection;
        c.head = request.method == "HEAD";
        if (c.head) request.method = "GET";  // HEAD is GET without the body
        request.from_loopback = c.loopback;
        c.state = State::Waiting;
        if (!workers_->submit({id, std::move(request)}, static_cast<size_t>(options_.max_queued)))
            answer(c, json_error(503, "the server is busy; try again"), /*keep=*/false);
    }

    void answer(Connection& c, const HttpResponse& response, bool keep) {
        c.keep_alive = keep;
        c.out += format_http_response(response, keep, c.head);
        c.state = State::Writing;
        c.deadline = Clock::now() + std::chrono::milliseconds(options_.write_timeout_ms);
    }

    // Everything in out has gone.
    void sent(uint64_t id, Connection& c) {
        if (c.state != State::Writing) return;
        if (c.keep_alive) {
            c.state = State::Idle;
            c.head = c.continue_sent = false;
            c.deadline = Clock::now() + std::chrono::milliseconds(options_.idle_timeout_ms);
            if (!c.in.empty()) {  // a pipelined request is already here
                c.state = State::Reading;
                c.deadline = Clock::now() + std::chrono::milliseconds(options_.read_timeout_ms);
                parse(id, c);
            }
            return;
        }
        // Half-close, then drain briefly: closing with unread request bytes
        // would reset the connection and could destroy the response in flight.
        ::shutdown(c.fd, SHUT_WR);
        c.state = State::Draining;
        c.deadline = Clock::now() + kDrainTime;
    }

    void deliver_answers() {
        for (Answer& a : workers_->take_answers()) {
            auto it = connections_.find(a.connection);
            if (it == connections_.end()) continue;  // the client went while its request was computed
            Connection& c = it->second;
            if (a.response.event_stream && events_) {
                c.state = State::Streaming;
                c.out += format_event_stream_head() + a.response.body + events_->replay(&c.stream_seen);
                c.last_event = Clock::now();
            } else {
                answer(c, a.response, c.keep_alive);
            }
        }
    }

    void deliver_events() {
        if (!events_) return;
        const std::vector<EventHub::Event> events = events_->take_new();
        const auto now = Clock::now();
        std::vector<uint64_t> too_slow;
        for (auto& [id, c] : connections_) {
            if (c.state != State::Streaming) continue;
            for (const EventHub::Event& e : events)
                if (e.sequence > c.stream_seen) {
                    c.out += e.bytes;
                    c.stream_seen = e.sequence;
                    c.last_event = now;
                }
            if (now - c.last_event > kStreamHeartbeat) {  // a comment keeps proxies and the browser from timing out
                c.out += ": still here\n\n";
                c.last_event = now;
            }
            if (c.out.size() - c.out_sent > options_.max_stream_backlog) too_slow.push_back(id);
        }
        for (uint64_t id : too_slow) close(id);
    }

    // ---- Deadlines

    void expire(Clock::time_point now) {
        std::vector<uint64_t> late;
        for (auto& [id, c] : connections_)
            if (c.state != State::Waiting && c.state != State::Streaming && now >= c.deadline) late.push_back(id);
        for (uint64_t id : late) {
            Connection& c = connections_.at(id);
            if (c.state == State::Reading && c.out.empty()) {
                // A request begun (or a connection opened) and not finished in time: 408.
                char message[80];
                std::snprintf(message, sizeof message, "the request did not arrive within %.1f s",
                              options_.read_timeout_ms / 1000.0);
                answer(c, json_error(408, message), /*keep=*/false);
                c.deadline = now + kDrainTime;  // a short while to send it
            } else {
                close(id);  // idle, not reading its response, or draining too long
            }
        }
    }

    void close(uint64_t id) {
        auto it = connections_.find(id);
        if (it == connections_.end()) return;
        ::close(it->second.fd);
        connections_.erase(it);
    }

    const ServerOptions& options_;
    EventHub* events_;
    int listener_ = -1, wake_read_ = -1, wake_write_ = -1, spare_fd_ = -1;
    int64_t max_connections_ = 0;
    Clock::time_point accept_again_{};
    std::map<uint64_t, Connection> connections_;
    uint64_t next_id_ = 1;
    std::unique_ptr<Workers> workers_;
};

}  // namespace

void serve_http(const ServerOptions& options, const HttpHandler& handler, EventHub* events) {
    Loop loop(options, handler, events);
    std::printf("listening on http://%s:%d/\n", options.host.c_str(), loop.port());
    std::fflush(stdout);
    if (options.host != "localhost" && options.host.rfind("127.", 0) != 0)  // 127.0.0.0/8 is all loopback
        std::fprintf(stderr, "warning: serving on %s, not only this machine's loopback: anyone who can reach "
                             "it can use it (there is no authentication)\n", options.host.c_str());

    g_stop = 0;
    g_wake_fd = loop.wake_fd();
    struct sigaction action {}, old_int {}, old_term {};
    action.sa_handler = on_stop_signal;
    sigemptyset(&action.sa_mask);
    sigaction(SIGINT, &action, &old_int);
    sigaction(SIGTERM, &action, &old_term);
    loop.run();
    g_wake_fd = -1;
    sigaction(SIGINT, &old_int, nullptr);
    sigaction(SIGTERM, &old_term, nullptr);
    std::printf("stopped (signal %d)\n", g_stop.load());
}
