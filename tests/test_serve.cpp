// tests/test_serve.cpp — ./alexnet serve as its clients meet it, over
// loopback: the API and the page, HTTP's details (keep-alive, HEAD, Allow,
// 100-continue, duplicate lengths), and the clients that must not stall it —
// idle connections, clients trickling a byte every 50 ms, half-sent bodies,
// garbage, hundreds of connections at once, a process out of file
// descriptors — each while a normal request must still be answered
// promptly. And a training run started from the page, which must give the
// same checkpoint bits as ./alexnet train with the same settings.
#include <arpa/inet.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <fstream>
#include <sstream>
#include <thread>
#include <vector>

#include "catch.hpp"
#include "cli_helpers.h"
#include "helpers.h"

extern char** environ;

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

// ./alexnet serve on a free loopback port (under `ulimit -n` if given);
// stopped with SIGINT when the object goes.
class LiveServer {
public:
    explicit LiveServer(const std::string& flags, int open_files_limit = 0) : log_(temp_path("serve.log")) {
        const std::string limit = open_files_limit > 0 ? "ulimit -n " + std::to_string(open_files_limit) + "; " : "";
        const std::string command = limit + "exec " + alexnet_binary() + " serve --port 0 " + flags + " > " + log_ + " 2>&1";
        const char* argv[] = {"/bin/sh", "-c", command.c_str(), nullptr};
        REQUIRE(posix_spawn(&pid_, "/bin/sh", nullptr, nullptr, const_cast<char**>(argv), environ) == 0);
        const std::string banner = "listening on http://";
        const auto deadline = Clock::now() + std::chrono::seconds(30);
        while (log().find(banner) == std::string::npos && Clock::now() < deadline)
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        const std::string started = log();
        INFO(started);
        REQUIRE(started.find(banner) != std::string::npos);
        port = std::atoi(started.c_str() + started.find(':', started.find(banner) + banner.size()) + 1);
        REQUIRE(port > 0);
    }
    ~LiveServer() {
        if (pid_ > 0) stop();
    }
    // SIGINT, then the exit status (-1 if it did not exit normally).
    int stop() {
        ::kill(pid_, SIGINT);
        int status = 0;
        ::waitpid(pid_, &status, 0);
        pid_ = 0;
        return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    }
    std::string log() const { return read_file(log_); }
    // CPU seconds the server has used so far (user + system).
    double cpu_seconds() const {
        std::ifstream stat("/proc/" + std::to_string(pid_) + "/stat");
        std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
        std::istringstream fields(text.substr(text.rfind(')') + 2));
        std::string field;
        long ticks = 0;
        for (int i = 3; i <= 15 && fields >> field; ++i)
            if (i == 14 || i == 15) ticks += std::stol(field);  // utime, stime
        return static_cast<double>(ticks) / static_cast<double>(::sysconf(_SC_CLK_TCK));
    }
    int port = 0;

private:
    std::string log_;
    pid_t pid_ = 0;
};

int connect_to(int port, const char* address = "127.0.0.1") {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_port = htons(static_cast<uint16_t>(port));
    ::inet_pton(AF_INET, address, &to.sin_addr);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&to), sizeof to) != 0) {
        ::close(fd);
        return -1;
    }
    return fd;
}

bool send_all(int fd, const std::string& bytes) {
    for (size_t sent = 0; sent < bytes.size();) {
        const ssize_t n = ::send(fd, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
        if (n <= 0) return false;
        sent += static_cast<size_t>(n);
    }
    return true;
}

// Reads one whole response (its Content-Length decides where it ends), or
// everything until the server closes, within timeout seconds. A response
// not whole by then ends with "<timeout>".
std::string read_response(int fd, double timeout) {
    std::string in;
    const auto deadline = Clock::now() + std::chrono::duration<double>(timeout);
    for (;;) {
        const size_t head_end = in.find("\r\n\r\n");
        if (head_end != std::string::npos) {
            const size_t at = in.find("Content-Length: ");
            if (at != std::string::npos && at < head_end &&
                in.size() >= head_end + 4 + std::stoul(in.substr(at + 16)) && in.compare(0, 12, "HTTP/1.1 100") != 0)
                return in;
        }
        const int left = static_cast<int>(std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count());
        pollfd p{fd, POLLIN, 0};
        if (left <= 0 || ::poll(&p, 1, left) <= 0) return in + "<timeout>";
        char buffer[65536];
        const ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
        if (n <= 0) return in;
        in.append(buffer, static_cast<size_t>(n));
    }
}

// Connects, sends request, reads one response, closes.
std::string http_exchange(int port, const std::string& request, double timeout = 15.0) {
    const int fd = connect_to(port);
    if (fd < 0) return "(cannot connect)";
    send_all(fd, request);
    const std::string response = read_response(fd, timeout);
    ::close(fd);
    return response;
}

std::string get(const std::string& path) { return "GET " + path + " HTTP/1.1\r\nHost: x\r\n\r\n"; }
std::string post(const std::string& path, const std::string& body) {
    return "POST " + path + " HTTP/1.1\r\nHost: x\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
}
std::string body_of(const std::string& response) { return response.substr(response.find("\r\n\r\n") + 4); }

// A trained model and the small data set, made once for every test here.
const std::string& served_model() {
    static const std::string model = [] {
        const std::string m = temp_path("served.model");
        REQUIRE(run_alexnet(small_training(m) + " --steps 2 --quiet").exit_code == 0);
        return m;
    }();
    return model;
}

std::string serve_flags(int threads = 2) {
    return "--threads " + std::to_string(threads) + " --model " + served_model() + " --data " + small_data_dir() +
           " --train-model " + temp_path("page.model");
}

// The request the page makes on every stroke; answered 200 within `within` seconds?
bool prompt_prediction(int port, double within, double* took = nullptr) {
    static const std::string png = read_file("tests/data/png/drawn_4_rgba.png");
    const auto start = Clock::now();
    const std::string r = http_exchange(port, post("/api/predict", png), within);
    if (took) *took = seconds_since(start);
    return r.find("HTTP/1.1 200 OK") == 0 && seconds_since(start) < within;
}

}  // namespace

TEST_CASE("serve: the page, the API, 4xx for bad requests, HEAD, Allow, SIGINT stops it", "[cli][serve]") {
    LiveServer server(serve_flags() + " --read-timeout 1");
    const int port = server.port;
    std::string r = http_exchange(port, get("/"));
    CHECK(r.find("HTTP/1.1 200 OK\r\nContent-Type: text/html") == 0);
    CHECK(r.find("<canvas id=\"pad\"") != std::string::npos);
    r = http_exchange(port, get("/api/model"));
    CHECK(r.find("\"conv1_filters\": {\"shape\": [3,1,11,11]") != std::string::npos);
    const std::string png = read_file("tests/data/png/drawn_4_rgba.png");
    r = http_exchange(port, post("/api/predict", png));
    CHECK(r.find("HTTP/1.1 200 OK") == 0);
    CHECK(r.find("{\"file\": \"upload\", \"digit\": ") != std::string::npos);
    CHECK(r.find("\"blank\": false") != std::string::npos);
    CHECK(r.find("\"layers\"") == std::string::npos);
    r = http_exchange(port, post("/api/predict?layers=1&saliency=1", png));
    CHECK(r.find("\"name\": \"conv5\", \"shape\": [") != std::string::npos);
    CHECK(r.find("\"name\": \"dense4\", \"shape\": [10]") != std::string::npos);
    CHECK(r.find("\"saliency\": [") != std::string::npos);
    r = http_exchange(port, get("/api/random?index=3"));
    CHECK(r.find("{\"index\": 3, \"label\": ") != std::string::npos);
    // A blank image is said to be blank.
    r = http_exchange(port, post("/api/predict", "P2\n1 1\n255\n255\n"));
    CHECK(r.find("\"blank\": true") != std::string::npos);

    // HEAD: a GET's headers, its length, no body. A wrong method: 405 with Allow.
    r = http_exchange(port, "HEAD / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    CHECK(r.find("HTTP/1.1 200 OK") == 0);
    CHECK(r.find("Content-Length: 0") == std::string::npos);
    CHECK(body_of(r).empty());
    r = http_exchange(port, get("/api/predict"));
    CHECK(r.find("HTTP/1.1 405") == 0);
    CHECK(r.find("\r\nAllow: POST\r\n") != std::string::npos);
    r = http_exchange(port, post("/", "x"));
    CHECK(r.find("\r\nAllow: GET, HEAD\r\n") != std::string::npos);

    // Bad requests: a clear JSON error each, and the server carries on.
    CHECK(http_exchange(port, "HELLO\r\n\r\n").find("HTTP/1.1 400 Bad Request") == 0);
    CHECK(http_exchange(port, post("/api/predict", "not an image")).find("HTTP/1.1 422") == 0);
    CHECK(http_exchange(port, "POST /api/predict HTTP/1.1\r\nHost: x\r\nContent-Length: 9999999\r\n\r\n").find("HTTP/1.1 413") == 0);
    CHECK(http_exchange(port, get("/etc/passwd")).find("HTTP/1.1 404") == 0);
    CHECK(http_exchange(port, get("/api/random?index=99999")).find("HTTP/1.1 400") == 0);
    CHECK(http_exchange(port, "GET / HTTP/1.1\r\n\r\n").find("HTTP/1.1 400") == 0);  // 1.1 without Host
    CHECK(http_exchange(port, "GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab").find("HTTP/1.1 400") == 0);
    CHECK(http_exchange(port, "POST /api/predict HTTP/1.1\r\nHost: x\r\nContent-Length:\r\n\r\n").find("HTTP/1.1 400") == 0);
    // A client that never finishes its request is answered 408 after the
    // read timeout (1 s here) and closed, not waited on forever.
    const auto before = Clock::now();
    r = http_exchange(port, "GET / HTTP/1.1\r\nHost: x\r\n");
    CHECK(r.find("HTTP/1.1 408 Request Timeout") == 0);
    CHECK(seconds_since(before) < 5.0);
    // The event stream answers with its head and a first event.
    const int stream = connect_to(port);
    send_all(stream, get("/api/train/events"));
    char buffer[4096];
    pollfd p{stream, POLLIN, 0};
    REQUIRE(::poll(&p, 1, 5000) == 1);
    const std::string head(buffer, static_cast<size_t>(std::max<ssize_t>(0, ::recv(stream, buffer, sizeof buffer, 0))));
    CHECK(head.find("HTTP/1.1 200 OK\r\nContent-Type: text/event-stream") == 0);
    ::close(stream);
    CHECK(http_exchange(port, get("/api/model")).find("HTTP/1.1 200") == 0);

    CHECK(server.stop() == 0);
    CHECK(server.log().find("stopped (signal 2)") != std::string::npos);
}

TEST_CASE("serve: keep-alive, pipelining, 100-continue, HTTP/1.0", "[cli][serve]") {
    LiveServer server(serve_flags());
    const int fd = connect_to(server.port);
    // Three requests on one connection, the last two sent together (pipelined).
    REQUIRE(send_all(fd, get("/api/model")));
    std::string r = read_response(fd, 10);
    CHECK(r.find("HTTP/1.1 200 OK") == 0);
    CHECK(r.find("Connection: keep-alive") != std::string::npos);
    REQUIRE(send_all(fd, get("/api/random?index=1") + get("/api/random?index=2")));
    r = read_response(fd, 10);
    CHECK(body_of(r).find("{\"index\": 1,") == 0);
    r = read_response(fd, 10);
    CHECK(r.find("\"index\": 2,") != std::string::npos);
    // 100-continue: the client waits for the interim answer before its body.
    const std::string png = read_file("tests/data/png/drawn_4_rgba.png");
    REQUIRE(send_all(fd, "POST /api/predict HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: " +
                             std::to_string(png.size()) + "\r\n\r\n"));
    char buffer[256];
    pollfd p{fd, POLLIN, 0};
    REQUIRE(::poll(&p, 1, 5000) == 1);
    const ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
    CHECK(std::string(buffer, static_cast<size_t>(std::max<ssize_t>(n, 0))) == "HTTP/1.1 100 Continue\r\n\r\n");
    REQUIRE(send_all(fd, png));
    CHECK(read_response(fd, 10).find("HTTP/1.1 200 OK") == 0);
    ::close(fd);
    // HTTP/1.0 without keep-alive: answered, then closed.
    r = http_exchange(server.port, "GET /api/model HTTP/1.0\r\n\r\n");
    CHECK(r.find("Connection: close") != std::string::npos);
}

TEST_CASE("serve: idle, trickling, half-sent and garbage clients do not delay a normal request", "[cli][serve]") {
    LiveServer server(serve_flags());
    const int port = server.port;
    std::vector<int> held;
    for (int i = 0; i < 64; ++i) held.push_back(connect_to(port));  // idle: connected, silent
    for (int i = 0; i < 2; ++i) {  // half-sent bodies
        const int fd = connect_to(port);
        send_all(fd, "POST /api/predict HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n0123456789");
        held.push_back(fd);
    }
    for (int i = 0; i < 4; ++i) {  // garbage and a TLS handshake: refused at once
        const std::string r = http_exchange(port, i % 2 ? std::string("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 11)
                                                   : std::string("\x00\xff\x10garbage\r\n\r\n", 13), 2.0);
        CHECK(r.find("HTTP/1.1 400") == 0);
    }
    // Two clients that trickle a byte every 50 ms, before and after their request.
    std::atomic<bool> done{false};
    std::vector<std::thread> tricklers;
    for (int i = 0; i < 2; ++i)
        tricklers.emplace_back([&] {
            const int fd = connect_to(port);
            const std::string request = get("/api/model");
            for (size_t k = 0; !done; ++k) {
                const char byte = request[k % request.size()];
                if (::send(fd, &byte, 1, MSG_NOSIGNAL) <= 0) break;
                std::this_thread::sleep_for(std::chrono::milliseconds(50));
            }
            ::close(fd);
        });
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    double worst = 0;
    for (int i = 0; i < 20; ++i) {
        double took = 0;
        CHECK(prompt_prediction(port, 2.0, &took));
        worst = std::max(worst, took);
    }
    INFO("slowest of 20 predictions: " << worst << " s");
    CHECK(worst < 2.0);
    done = true;
    for (std::thread& t : tricklers) t.join();
    for (int fd : held) ::close(fd);
}

TEST_CASE("serve: 200 connections at once are each answered, and then a normal request is", "[cli][serve]") {
    LiveServer server(serve_flags());
    std::vector<int> fds;
    for (int i = 0; i < 200; ++i) {
        const int fd = connect_to(server.port);
        REQUIRE(fd >= 0);
        send_all(fd, "GET /api/model HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        fds.push_back(fd);
    }
    int ok = 0, busy = 0;
    for (int fd : fds) {
        const std::string r = read_response(fd, 20);
        ok += r.find("HTTP/1.1 200") == 0;
        busy += r.find("HTTP/1.1 503") == 0;
        ::close(fd);
    }
    INFO(ok << " answered 200, " << busy << " answered 503");
    CHECK(ok + busy == 200);
    CHECK(ok > 0);
    CHECK(prompt_prediction(server.port, 2.0));
}

TEST_CASE("serve: out of file descriptors it refuses and backs off instead of spinning", "[cli][serve]") {
    LiveServer server(serve_flags(), /*open_files_limit=*/40);
    std::vector<int> fds;
    for (int i = 0; i < 60; ++i) fds.push_back(connect_to(server.port));  // more than it can hold
    int refused = 0;
    for (int fd : fds) {
        pollfd p{fd, POLLIN, 0};
        if (::poll(&p, 1, 200) == 1) {
            char buffer[512];
            const ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
            refused += n > 0 && std::string(buffer, static_cast<size_t>(n)).find("HTTP/1.1 503") == 0;
        }
    }
    INFO(refused << " of 60 connections refused with 503");
    CHECK(refused > 0);
    // While the rest are held open, the server does not spin on its listener.
    const double cpu_before = server.cpu_seconds();
    std::this_thread::sleep_for(std::chrono::seconds(2));
    const double cpu = server.cpu_seconds() - cpu_before;
    INFO("CPU time in 2 s of being full: " << cpu << " s");
    CHECK(cpu < 0.5);
    for (int fd : fds) ::close(fd);
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    CHECK(prompt_prediction(server.port, 2.0));
}

TEST_CASE("serve: a training run from the page gives ./alexnet train's bits; control is for loopback only",
          "[cli][serve][determinism]") {
    const std::string page_model = temp_path("page.model"), cli_model = temp_path("cli.model");
    LiveServer server("--threads 2 --model " + served_model() + " --data " + small_data_dir() + " --train-model " +
                      page_model);
    const std::string form = "epochs=2&filters=1&image-size=39&batch-size=16&val-split=0.25&steps=20&augment=on&dropout=0.5";
    std::string r = http_exchange(server.port, post("/api/train/start", form));
    CHECK(r.find("HTTP/1.1 202") == 0);
    CHECK(http_exchange(server.port, post("/api/train/start", form)).find("HTTP/1.1 409") == 0);  // one run at a time
    const auto deadline = Clock::now() + std::chrono::seconds(60);
    while (Clock::now() < deadline && body_of(http_exchange(server.port, get("/api/train"))).find("\"finished\"") == std::string::npos)
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    r = http_exchange(server.port, get("/api/train"));
    INFO(r);
    REQUIRE(r.find("\"state\": \"finished\"") != std::string::npos);
    // Predictions now use the run's weights.
    r = http_exchange(server.port, post("/api/predict", read_file("tests/data/png/drawn_4_rgba.png")));
    CHECK(r.find("\"model\": \"training run") != std::string::npos);
    CHECK(http_exchange(server.port, post("/api/train/start", "data=/etc")).find("HTTP/1.1 400") == 0);
    CHECK(http_exchange(server.port, post("/api/train/start", "epochs=0")).find("--epochs must be between 1 and 10000") != std::string::npos);
    REQUIRE(run_alexnet("train --data " + small_data_dir() + " --model " + cli_model +
                        " --epochs 2 --filters 1 --image-size 39 --batch-size 16 --val-split 0.25 --steps 20"
                        " --augment --dropout 0.5 --threads 1 --quiet")
                .exit_code == 0);
    const std::string from_page = read_file(page_model), from_cli = read_file(cli_model);
    REQUIRE(!from_page.empty());
    CHECK(from_page == from_cli);

    // From another address of this machine (when it has one), the run cannot be started or steered.
    ifaddrs* interfaces = nullptr;
    std::string other;
    if (::getifaddrs(&interfaces) == 0) {
        for (ifaddrs* i = interfaces; i; i = i->ifa_next)
            if (i->ifa_addr && i->ifa_addr->sa_family == AF_INET) {
                const auto* a = reinterpret_cast<const sockaddr_in*>(i->ifa_addr);
                if ((ntohl(a->sin_addr.s_addr) >> 24) != 127) {
                    char text[INET_ADDRSTRLEN];
                    other = ::inet_ntop(AF_INET, &a->sin_addr, text, sizeof text);
                    break;
                }
            }
        ::freeifaddrs(interfaces);
    }
    if (other.empty()) {
        WARN("no non-loopback IPv4 address here: the loopback-only check is skipped");
        return;
    }
    LiveServer everywhere("--host 0.0.0.0 --threads 1 --model " + served_model() + " --data " + small_data_dir());
    const int fd = connect_to(everywhere.port, other.c_str());
    REQUIRE(fd >= 0);
    send_all(fd, post("/api/train/start", "epochs=1"));
    r = read_response(fd, 10);
    ::close(fd);
    CHECK(r.find("HTTP/1.1 403") == 0);
    CHECK(everywhere.log().find("warning: serving on 0.0.0.0") != std::string::npos);
}
