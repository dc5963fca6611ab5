// tests/test_http.cpp — the HTTP request parser on whole, partial, pipelined,
// oversized and malformed requests (garbage refused before it is whole), and
// the writers of responses and Server-Sent Events.
#include <string>

#include "catch.hpp"
#include "web/http.h"

namespace {

ParseResult parse(const std::string& bytes, HttpRequest* request = nullptr) {
    HttpRequest scratch;
    return parse_http_request(bytes, request ? request : &scratch);
}

}  // namespace

TEST_CASE("HTTP: a GET and a POST with a body parse; a partial request asks for more", "[http]") {
    HttpRequest r;
    REQUIRE(parse("GET /api/random?index=7&x=1 HTTP/1.1\r\nHost: a\r\nX-Thing:  spaced \r\n\r\n", &r).kind ==
            ParseResult::Complete);
    CHECK(r.method == "GET");
    CHECK(r.path == "/api/random");
    CHECK(r.version == "HTTP/1.1");
    CHECK(r.query_value("index") == "7");
    CHECK(r.query_value("x") == "1");
    CHECK(r.query_value("missing").empty());
    CHECK(r.header("host") == "a");
    CHECK(r.header("x-thing") == "spaced");  // names lower-cased, values trimmed
    const std::string post = "POST /api/predict HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello";
    const ParseResult whole = parse(post, &r);
    REQUIRE(whole.kind == ParseResult::Complete);
    CHECK(r.body == "hello");
    CHECK(whole.consumed == post.size());
    // Every proper prefix is incomplete: the parser waits for the rest.
    for (size_t n = 0; n < post.size(); ++n) {
        INFO(n << " bytes");
        CHECK(parse(post.substr(0, n)).kind == ParseResult::Incomplete);
    }
    // Bytes after Content-Length are not the body: the next request (pipelining).
    const ParseResult first = parse(post + "GET / HTTP/1.1\r\n", &r);
    REQUIRE(first.kind == ParseResult::Complete);
    CHECK(r.body == "hello");
    CHECK(first.consumed == post.size());
    // Two Content-Length headers that agree are one.
    REQUIRE(parse("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\nok", &r).kind ==
            ParseResult::Complete);
    CHECK(r.body == "ok");
    // HTTP/1.0 needs no Host.
    CHECK(parse("GET / HTTP/1.0\r\n\r\n").kind == ParseResult::Complete);
    // Empty lines before a request are skipped, and counted as consumed.
    const ParseResult after_crlf = parse("\r\n\r\nGET / HTTP/1.0\r\n\r\n", &r);
    REQUIRE(after_crlf.kind == ParseResult::Complete);
    CHECK(after_crlf.consumed == 22);
}

TEST_CASE("HTTP: keep-alive by version and Connection; 100-continue asked once the headers are whole", "[http]") {
    HttpRequest r;
    REQUIRE(parse("GET / HTTP/1.1\r\nHost: a\r\n\r\n", &r).kind == ParseResult::Complete);
    CHECK(r.keep_alive());
    REQUIRE(parse("GET / HTTP/1.1\r\nHost: a\r\nConnection: Close\r\n\r\n", &r).kind == ParseResult::Complete);
    CHECK_FALSE(r.keep_alive());
    REQUIRE(parse("GET / HTTP/1.0\r\n\r\n", &r).kind == ParseResult::Complete);
    CHECK_FALSE(r.keep_alive());
    REQUIRE(parse("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", &r).kind == ParseResult::Complete);
    CHECK(r.keep_alive());
    const std::string head = "POST / HTTP/1.1\r\nHost: a\r\nExpect: 100-Continue\r\nContent-Length: 3\r\n\r\n";
    const ParseResult waiting = parse(head);
    CHECK(waiting.kind == ParseResult::Incomplete);
    CHECK(waiting.send_continue);
    CHECK_FALSE(parse(head.substr(0, head.size() - 2)).send_continue);  // headers not whole yet
    CHECK(parse(head + "abc").kind == ParseResult::Complete);
    CHECK_FALSE(parse("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\n").send_continue);
}

TEST_CASE("HTTP: limits and malformed requests get the right status", "[http][errors]") {
    struct Case {
        std::string bytes;
        int status;
        std::string message;
    } cases[] = {
        {"GET /" + std::string(9000, 'a'), 431, "larger than 8 KB"},  // no end of headers yet, already too long
        {"GET / HTTP/1.1\r\nX: " + std::string(9000, 'a') + "\r\n\r\n", 431, "larger than 8 KB"},
        {"POST /api/predict HTTP/1.1\r\nHost: a\r\nContent-Length: 3000000\r\n\r\n", 413, "larger than 2 MB"},
        {"POST /api/predict HTTP/1.1\r\nHost: a\r\nContent-Length: 99999999999\r\n\r\n", 400, "Content-Length is not a number"},
        {"POST /api/predict HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n", 400, "Content-Length is not a number"},
        {"POST /api/predict HTTP/1.1\r\nHost: a\r\nContent-Length:\r\n\r\n", 400, "Content-Length is not a number"},
        {"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nabcdef", 400, "disagree"},
        {"POST /api/predict HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n", 411, "Content-Length"},
        {"POST / HTTP/1.1\r\nHost: a\r\nExpect: something\r\n\r\n", 417, "100-continue"},
        {"GET / HTTP/1.1\r\n\r\n", 400, "must name its Host"},
        {"GET\r\n\r\n", 400, "not an HTTP request"},
        {"GET /\r\n\r\n", 400, "not an HTTP request"},
        {"GET / HTTP/2.0\r\nHost: a\r\n\r\n", 505, "only HTTP/1.0 and HTTP/1.1"},
        {"GET / FTP/1.0\r\n\r\n", 400, "not an HTTP/1 request"},
        {"G(T / HTTP/1.1\r\n\r\n", 400, "not an HTTP request"},
        {"GET http://x/ HTTP/1.1\r\nHost: a\r\n\r\n", 400, "starting with /"},
        {"GET /a\x01 HTTP/1.1\r\n\r\n", 400, "not an HTTP request"},
        {"GET / HTTP/1.1\r\nHost: a\r\nno colon here\r\n\r\n", 400, "without a colon"},
        {"GET / HTTP/1.1\r\nHost: a\r\nBad Name: x\r\n\r\n", 400, "malformed header name"},
        {"GET / HTTP/1.1\r\nHost: a\r\nX: a\x01z\r\n\r\n", 400, "control character"},
    };
    for (const Case& c : cases) {
        INFO(c.bytes.substr(0, 60));
        const ParseResult r = parse(c.bytes);
        REQUIRE(r.kind == ParseResult::Error);
        CHECK(r.status == c.status);
        CHECK_THAT(r.message, Catch::Contains(c.message));
    }
}

TEST_CASE("HTTP: bytes that can never become a request are refused before they are whole", "[http][errors]") {
    const std::string never[] = {
        std::string("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 11),  // a TLS ClientHello
        std::string("\x00\x01\x02\xff", 4),                                 // binary junk
        "GET / HTTP/1.1\nHost: a\n",                                        // bare LF line ends
        "GET / HTTP/1.1\r\nHost: a\n",
        "GET  / HTTP/1.1",                                                  // two spaces
        "GET / SPDY/3",
        "GET / HTTP/1.1x",
    };
    for (const std::string& bytes : never) {
        INFO(bytes);
        const ParseResult r = parse(bytes);
        CHECK(r.kind == ParseResult::Error);
        CHECK(r.status == 400);
    }
    // Each proper prefix of a good request can still become one.
    const std::string good = "POST /api/predict?layers=1 HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n\r\nok";
    for (size_t n = 0; n < good.size(); ++n) CHECK(parse(good.substr(0, n)).kind == ParseResult::Incomplete);
}

TEST_CASE("HTTP: responses carry their length, keep-alive or close, HEAD's headers, extra headers", "[http]") {
    HttpResponse ok;
    ok.body = "{}";
    CHECK(format_http_response(ok, false) ==
          "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\nConnection: close\r\n"
          "Cache-Control: no-store\r\nX-Content-Type-Options: nosniff\r\n\r\n{}");
    CHECK(format_http_response(ok, true).find("Connection: keep-alive\r\n") != std::string::npos);
    ok.headers.emplace_back("Allow", "GET, HEAD");
    const std::string head = format_http_response(ok, true, /*head=*/true);
    CHECK(head.find("Content-Length: 2\r\n") != std::string::npos);  // the GET's length
    CHECK(head.find("\r\nAllow: GET, HEAD\r\n\r\n") != std::string::npos);
    CHECK(head.substr(head.size() - 4) == "\r\n\r\n");  // and no body
    const HttpResponse e = json_error(422, "bad \"file\"\n\\");
    CHECK(e.status == 422);
    CHECK(e.body == "{\"error\": \"bad \\\"file\\\"\\u000a\\\\\"}\n");
    CHECK(std::string(http_reason(413)) == "Content Too Large");
    CHECK(std::string(http_reason(417)) == "Expectation Failed");
}

TEST_CASE("Server-Sent Events: one data line per line of data, so nothing can end an event early", "[http]") {
    CHECK(format_event("step", "{\"step\": 1}") == "event: step\ndata: {\"step\": 1}\n\n");
    CHECK(format_event("x", "a\nb") == "event: x\ndata: a\ndata: b\n\n");
    CHECK(format_event("x", "a\r\n\nb\rc") == "event: x\ndata: a\ndata: \ndata: b\ndata: c\n\n");
    CHECK(format_event("x", "") == "event: x\ndata: \n\n");
    CHECK(format_event_stream_head().find("Content-Type: text/event-stream\r\n") != std::string::npos);
}
