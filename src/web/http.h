// http.h — the small part of HTTP/1.1 (RFC 9112) that ./alexnet serve needs:
// parsing one request from the bytes received so far, and writing one
// response. Pure functions over bytes, so the fuzzer and the tests drive them
// without a socket.
//
// Leaves out: chunked request bodies (answered 411: send Content-Length),
// absolute-form targets, percent-decoding of paths (no route needs it),
// trailers, upgrades.
#pragma once

#include <cstddef>
#include <string>
#include <utility>
#include <vector>

constexpr size_t kMaxHeaderBytes = 8 * 1024;       // request line and headers
constexpr size_t kMaxBodyBytes = 2 * 1024 * 1024;  // an uploaded image

struct HttpRequest {
    std::string method;   // "GET", "POST", ...
    std::string path;     // "/api/predict" (the target before any '?')
    std::string query;    // "layers=1" (after the '?', or empty)
    std::string version;  // "HTTP/1.1" or "HTTP/1.0"
    std::vector<std::pair<std::string, std::string>> headers;  // names lower-cased
    std::string body;
    bool from_loopback = false;  // set by the server: the client is on this machine

    // A header's value, or "" if absent. name in lower case.
    std::string header(const std::string& name) const;
    // The value of key in the query string ("layers=1" -> query_value("layers") == "1").
    std::string query_value(const std::string& key) const;
    // Whether the client wants the connection kept open after the response:
    // HTTP/1.1 unless "Connection: close", HTTP/1.0 only with "keep-alive".
    bool keep_alive() const;
};

// What parse_http_request made of the bytes so far.
struct ParseResult {
    enum Kind { Incomplete, Complete, Error } kind = Incomplete;
    int status = 0;       // for Error: the HTTP status to answer (400, 411, 413, 417, 431, 505)
    std::string message;  // for Error: what was wrong, for the JSON error body
    size_t consumed = 0;  // for Complete: bytes of `received` the request took (the rest is the next one)
    // For Incomplete: the headers are whole, the body is not, and the client
    // asked "Expect: 100-continue": it waits for "100 Continue" before sending it.
    bool send_continue = false;
};

// Parses one request from received (everything read so far). Incomplete
// means that more bytes are needed; Complete fills *request. Bytes that can
// never start a request (a TLS handshake, binary junk, lines ending in a
// bare LF) are an Error at once, without waiting for more. Never reads past
// received, never allocates more than received holds.
ParseResult parse_http_request(const std::string& received, HttpRequest* request);

struct HttpResponse {
    int status = 200;
    std::string content_type = "application/json";
    std::string body;
    std::vector<std::pair<std::string, std::string>> headers;  // more, e.g. {"Allow", "GET, HEAD"}
    // The server keeps the connection open as a Server-Sent Events stream:
    // body is its first events, and later events follow (server.h).
    bool event_stream = false;
};

// A JSON error response: {"error": message}.
HttpResponse json_error(int status, const std::string& message);

// The bytes of a whole response: status line, Content-Type, Content-Length,
// Connection (keep-alive or close), a few safety headers, the extra headers,
// the body (but for HEAD, which gets the headers of the GET it stands for).
std::string format_http_response(const HttpResponse& response, bool keep_alive, bool head = false);

// The head of an event stream: 200, text/event-stream, no length, no caching.
std::string format_event_stream_head();
// One Server-Sent Event: "event: NAME\ndata: LINE\n...\n\n", a data line per
// line of data (so a newline inside it cannot end the event early).
std::string format_event(const std::string& name, const std::string& data);

// "Not Found" for 404, and so on.
const char* http_reason(int status);

// text as a JSON string literal, with quotes.
std::string json_string(const std::string& text);
