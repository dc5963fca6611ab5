// http.cpp — request parsing and response writing for ./alexnet serve.
// parse_http_request reads in the order of the message: request line,
// header fields up to the empty line, then Content-Length bytes of body,
// checking each limit before the bytes it guards are looked at. While the
// header section is still arriving, what has arrived must be able to begin a
// request; anything else is refused at once rather than waited on.
#include "web/http.h"

#include <algorithm>
#include <cctype>
#include <cstdio>

namespace {

ParseResult error(int status, const std::string& message) {
    ParseResult r;
    r.kind = ParseResult::Error;
    r.status = status;
    r.message = message;
    return r;
}

std::string lower(std::string s) {
    for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
}

std::string trimmed(const std::string& s) {
    size_t begin = 0, end = s.size();
    while (begin < end && (s[begin] == ' ' || s[begin] == '\t')) ++begin;
    while (end > begin && (s[end - 1] == ' ' || s[end - 1] == '\t')) --end;
    return s.substr(begin, end - begin);
}

// RFC 9110's token characters: what a method or a header name may hold.
bool is_token_char(unsigned char c) {
    return std::isalnum(c) || std::string("!#$%&'*+-.^_`|~").find(static_cast<char>(c)) != std::string::npos;
}
bool is_token(const std::string& s) { return !s.empty() && std::all_of(s.begin(), s.end(), is_token_char); }

// Whether `head` (the bytes of an unfinished header section) can still be
// the beginning of a request: a token method, a space, a target of visible
// ASCII, a space, the start of "HTTP/1.x", and lines ending in CRLF. Returns
// the problem, or "" if it can.
std::string cannot_start_request(const std::string& head) {
    const std::string version = "HTTP/";
    size_t i = 0;
    while (i < head.size() && is_token_char(static_cast<unsigned char>(head[i]))) ++i;
    if (i == head.size()) return "";
    if (i == 0 || head[i] != ' ') return "this is not an HTTP request";
    ++i;
    const size_t target = i;
    while (i < head.size() && head[i] > ' ' && head[i] < 0x7F) ++i;
    if (i == head.size()) return "";
    if (i == target || head[i] != ' ') return "this is not an HTTP request";
    ++i;
    for (size_t k = 0; k < version.size(); ++k, ++i) {
        if (i == head.size()) return "";
        if (head[i] != version[k]) return "this is not an HTTP/1 request";
    }
    while (i < head.size() && (std::isdigit(static_cast<unsigned char>(head[i])) || head[i] == '.')) ++i;
    if (i < head.size() && head[i] != '\r') return "this is not an HTTP/1 request";
    // The rest of the line and the headers so far: every LF after a CR.
    for (size_t k = i; k < head.size(); ++k)
        if (head[k] == '\n' && head[k - 1] != '\r') return "lines must end with CRLF, not a bare LF";
    return "";
}

}  // namespace

std::string HttpRequest::header(const std::string& name) const {
    for (const auto& [key, value] : headers)
        if (key == name) return value;
    return "";
}

std::string HttpRequest::query_value(const std::string& key) const {
    size_t start = 0;
    while (start <= query.size()) {
        const size_t end = std::min(query.find('&', start), query.size());
        const std::string pair = query.substr(start, end - start);
        const size_t eq = pair.find('=');
        if (pair.substr(0, eq) == key) return eq == std::string::npos ? "" : pair.substr(eq + 1);
        start = end + 1;
    }
    return "";
}

bool HttpRequest::keep_alive() const {
    const std::string connection = lower(header("connection"));
    if (version == "HTTP/1.0") return connection.find("keep-alive") != std::string::npos;
    return connection.find("close") == std::string::npos;
}

ParseResult parse_http_request(const std::string& received, HttpRequest* request) {
    // Empty lines before a request are skipped (RFC 9112 2.2: some clients
    // send a CRLF after a body).
    size_t skip = 0;
    while (received.compare(skip, 2, "\r\n") == 0) skip += 2;
    if (skip > 0) {
        ParseResult r = parse_http_request(received.substr(skip), request);
        if (r.kind == ParseResult::Complete) r.consumed += skip;
        return r;
    }
    // The header section ends at the first empty line. Until it has arrived,
    // only its size and whether it can still be a request are checked.
    const size_t header_end = received.find("\r\n\r\n");
    if (header_end == std::string::npos) {
        if (received.size() > kMaxHeaderBytes) return error(431, "request headers are larger than 8 KB");
        const std::string problem = cannot_start_request(received);
        if (!problem.empty()) return error(400, problem);
        return {};
    }
    if (header_end + 4 > kMaxHeaderBytes) return error(431, "request headers are larger than 8 KB");
    const std::string problem = cannot_start_request(received.substr(0, header_end + 4));
    if (!problem.empty()) return error(400, problem);

    // Request line: METHOD SP target SP HTTP/1.x
    const size_t line_end = received.find("\r\n");
    const std::string line = received.substr(0, line_end);
    const size_t sp1 = line.find(' '), sp2 = line.rfind(' ');
    if (sp1 == std::string::npos || sp2 == sp1) return error(400, "malformed request line");
    HttpRequest r;
    r.method = line.substr(0, sp1);
    const std::string target = line.substr(sp1 + 1, sp2 - sp1 - 1);
    r.version = line.substr(sp2 + 1);
    if (!is_token(r.method)) return error(400, "malformed method");
    if (r.version != "HTTP/1.1" && r.version != "HTTP/1.0") {
        if (r.version.rfind("HTTP/", 0) == 0) return error(505, "only HTTP/1.0 and HTTP/1.1 are spoken here");
        return error(400, "malformed request line");
    }
    if (target.empty() || target[0] != '/') return error(400, "the target must be a path starting with /");
    for (unsigned char c : target)
        if (c <= ' ' || c >= 0x7F) return error(400, "the target holds a control or non-ASCII character");
    const size_t question = target.find('?');
    r.path = target.substr(0, question);
    if (question != std::string::npos) r.query = target.substr(question + 1);

    // Header fields: name ":" value, one per line.
    size_t pos = line_end + 2;
    while (pos < header_end + 2) {
        const size_t end = received.find("\r\n", pos);
        const std::string field = received.substr(pos, end - pos);
        pos = end + 2;
        const size_t colon = field.find(':');
        if (colon == std::string::npos) return error(400, "a header line without a colon");
        const std::string name = field.substr(0, colon);
        if (!is_token(name)) return error(400, "a malformed header name");
        const std::string value = trimmed(field.substr(colon + 1));
        for (unsigned char c : value)
            if ((c < ' ' && c != '\t') || c == 0x7F) return error(400, "a header value holds a control character");
        r.headers.emplace_back(lower(name), value);
    }
    if (r.version == "HTTP/1.1" && r.header("host").empty())
        return error(400, "an HTTP/1.1 request must name its Host");

    // Body: exactly Content-Length bytes; chunked bodies are not taken. Two
    // Content-Length headers that disagree (or an empty one) would let two
    // readers of this request see different bodies: refused.
    if (!r.header("transfer-encoding").empty())
        return error(411, "send the body with Content-Length, not Transfer-Encoding");
    size_t length = 0;
    bool has_length = false;
    std::string length_text;
    for (const auto& [name, value] : r.headers) {
        if (name != "content-length") continue;
        if (has_length && value != length_text) return error(400, "two Content-Length headers that disagree");
        has_length = true;
        length_text = value;
    }
    if (has_length) {
        if (length_text.empty() || length_text.size() > 9 ||
            !std::all_of(length_text.begin(), length_text.end(), ::isdigit))
            return error(400, "Content-Length is not a number");
        length = std::stoul(length_text);
        if (length > kMaxBodyBytes) return error(413, "the body is larger than 2 MB");
    }
    const std::string expect = lower(r.header("expect"));
    if (!expect.empty() && expect != "100-continue") return error(417, "the only Expect understood is 100-continue");
    const size_t body_start = header_end + 4;
    if (received.size() - body_start < length) {  // more body to come
        ParseResult more;
        more.send_continue = expect == "100-continue";
        return more;
    }
    r.body = received.substr(body_start, length);
    *request = std::move(r);
    ParseResult done;
    done.kind = ParseResult::Complete;
    done.consumed = body_start + length;
    return done;
}

const char* http_reason(int status) {
    switch (status) {
        case 100: return "Continue";
        case 200: return "OK";
        case 202: return "Accepted";
        case 400: return "Bad Request";
        case 403: return "Forbidden";
        case 404: return "Not Found";
        case 405: return "Method Not Allowed";
        case 408: return "Request Timeout";
        case 409: return "Conflict";
        case 411: return "Length Required";
        case 413: return "Content Too Large";
        case 415: return "Unsupported Media Type";
        case 417: return "Expectation Failed";
        case 422: return "Unprocessable Content";
        case 431: return "Request Header Fields Too Large";
        case 500: return "Internal Server Error";
        case 501: return "Not Implemented";
        case 503: return "Service Unavailable";
        case 505: return "HTTP Version Not Supported";
        default: return "Unknown";
    }
}

std::string json_string(const std::string& text) {
    std::string out = "\"";
    for (unsigned char c : text) {
        if (c == '"' || c == '\\') {
            out += '\\';
            out += static_cast<char>(c);
        } else if (c < 0x20) {
            char escaped[8];
            std::snprintf(escaped, sizeof escaped, "\\u%04x", c);
            out += escaped;
        } else {
            out += static_cast<char>(c);
        }
    }
    return out + "\"";
}

HttpResponse json_error(int status, const std::string& message) {
    HttpResponse r;
    r.status = status;
    r.body = "{\"error\": " + json_string(message) + "}\n";
    return r;
}

std::string format_http_response(const HttpResponse& response, bool keep_alive, bool head) {
    char first[512];
    std::snprintf(first, sizeof first,
                  "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\nConnection: %s\r\n"
                  "Cache-Control: no-store\r\nX-Content-Type-Options: nosniff\r\n",
                  response.status, http_reason(response.status), response.content_type.c_str(),
                  response.body.size(), keep_alive ? "keep-alive" : "close");
    std::string out = first;
    for (const auto& [name, value] : response.headers) out += name + ": " + value + "\r\n";
    out += "\r\n";
    if (!head) out += response.body;
    return out;
}

std::string format_event_stream_head() {
    return "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-store\r\n"
           "X-Content-Type-Options: nosniff\r\nConnection: keep-alive\r\n\r\n";
}

std::string format_event(const std::string& name, const std::string& data) {
    // The stream's line ends are CRLF, LF or CR alone (the HTML standard's
    // event-stream grammar): each starts a new data line.
    std::string out = "event: " + name + "\ndata: ";
    for (size_t i = 0; i < data.size(); ++i) {
        if (data[i] == '\r' || data[i] == '\n') {
            if (data[i] == '\r' && i + 1 < data.size() && data[i + 1] == '\n') ++i;
            out += "\ndata: ";
        } else {
            out += data[i];
        }
    }
    return out + "\n\n";
}
