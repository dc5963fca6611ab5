// http.h — the small part of HTTP/1.1 (RFC 9112) that ./alexnet serve needs:
// parsing one request from the bytes received so far, and writing one
// response. A pure function over bytes, so the fuzzer and the tests drive it
// without a socket.
//
// Leaves out: chunked request bodies (answered 411: send Content-Length),
// keep-alive (every response closes the connection), pipelining, absolute-form
// targets, percent-decoding (no route needs it).
#pragma once

#include <cstddef>
#include <string>
#include <utility>
#include <vector>

constexpr size_t kMaxHeaderBytes = 8 * 1024;       // request line and headers
constexpr size_t kMaxBodyBytes = 2 * 1024 * 1024;  // an uploaded image

struct HttpRequest {
    std::string method;  // "GET", "POST", ...
    std::string path;    // "/api/predict" (the target before any '?')
    std::string query;   // "layers=1" (after the '?', or empty)
    std::vector<std::pair<std::string, std::string>> headers;  // names lower-cased
    std::string body;

    // A header's value, or "" if absent. name in lower case.
    std::string header(const std::string& name) const;
    // The value of key in the query string ("layers=1" -> query_value("layers") == "1").
    std::string query_value(const std::string& key) const;
};

// What parse_http_request made of the bytes so far.
struct ParseResult {
    enum Kind { Incomplete, Complete, Error } kind = Incomplete;
    int status = 0;       // for Error: the HTTP status to answer (400, 405, 411, 413, 431, 501, 505)
    std::string message;  // for Error: what was wrong, for the JSON error body
};

// Parses one request from received (everything read so far). Incomplete means
// that more bytes are needed; Complete fills *request. Never reads past
// received, never allocates more than received holds.
ParseResult parse_http_request(const std::string& received, HttpRequest* request);

struct HttpResponse {
    int status = 200;
    std::string content_type = "application/json";
    std::string body;
};

// A JSON error response: {"error": message}.
HttpResponse json_error(int status, const std::string& message);

// The bytes of a whole response: status line, Content-Type, Content-Length,
// Connection: close, a few safety headers, the body.
std::string format_http_response(const HttpResponse& response);

// "Not Found" for 404, and so on.
const char* http_reason(int status);

// text as a JSON string literal, with quotes.
std::string json_string(const std::string& text);
