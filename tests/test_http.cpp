// tests/test_http.cpp — the HTTP request parser on whole, partial, oversized
// and malformed requests, and the response writer.
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
    CHECK(r.query_value("index") == "7");
    CHECK(r.query_value("x") == "1");
    CHECK(r.query_value("missing").empty());
    CHECK(r.header("host") == "a");
    CHECK(r.header("x-thing") == "spaced");  // names lower-cased, values trimmed
    const std::string post = "POST /api/predict HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello";
    REQUIRE(parse(post, &r).kind == ParseResult::Complete);
    CHECK(r.body == "hello");
    // Every proper prefix is incomplete: the parser waits for the rest.
    for (size_t n = 0; n < post.size(); ++n) {
        INFO(n << " bytes");
        CHECK(parse(post.substr(0, n)).kind == ParseResult::Incomplete);
    }
    // Bytes after Content-Length (a client that sends more) are not the body.
    REQUIRE(parse(post + "extra", &r).kind == ParseResult::Complete);
    CHECK(r.body == "hello");
}

TEST_CASE("HTTP: limits and malformed requests get the right status", "[http][errors]") {
    struct Case {
        std::string bytes;
        int status;
        std::string message;
    } cases[] = {
        {std::string(9000, 'a'), 431, "larger than 8 KB"},  // no end of headers yet, already too long
        {"GET / HTTP/1.1\r\nX: " + std::string(9000, 'a') + "\r\n\r\n", 431, "larger than 8 KB"},
        {"POST /api/predict HTTP/1.1\r\nContent-Length: 3000000\r\n\r\n", 413, "larger than 2 MB"},
        {"POST /api/predict HTTP/1.1\r\nContent-Length: 99999999999\r\n\r\n", 400, "Content-Length is not a number"},
        {"POST /api/predict HTTP/1.1\r\nContent-Length: -1\r\n\r\n", 400, "Content-Length is not a number"},
        {"POST /api/predict HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n", 411, "Content-Length"},
        {"GET\r\n\r\n", 400, "malformed request line"},
        {"GET /\r\n\r\n", 400, "malformed request line"},
        {"GET / HTTP/2.0\r\n\r\n", 505, "only HTTP/1.0 and HTTP/1.1"},
        {"GET / FTP/1.0\r\n\r\n", 400, "malformed request line"},
        {"G(T / HTTP/1.1\r\n\r\n", 400, "malformed method"},
        {"GET http://x/ HTTP/1.1\r\n\r\n", 400, "starting with /"},
        {"GET /a\x01 HTTP/1.1\r\n\r\n", 400, "control or non-ASCII"},
        {"GET / HTTP/1.1\r\nno colon here\r\n\r\n", 400, "without a colon"},
        {"GET / HTTP/1.1\r\nBad Name: x\r\n\r\n", 400, "malformed header name"},
        {"GET / HTTP/1.1\r\nX: a\x01z\r\n\r\n", 400, "control character"},
    };
    for (const Case& c : cases) {
        INFO(c.bytes.substr(0, 60));
        const ParseResult r = parse(c.bytes);
        REQUIRE(r.kind == ParseResult::Error);
        CHECK(r.status == c.status);
        CHECK_THAT(r.message, Catch::Contains(c.message));
    }
}

TEST_CASE("HTTP: responses carry their length and close; JSON errors escape their message", "[http]") {
    HttpResponse ok;
    ok.body = "{}";
    CHECK(format_http_response(ok) ==
          "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\nConnection: close\r\n"
          "Cache-Control: no-store\r\nX-Content-Type-Options: nosniff\r\n\r\n{}");
    const HttpResponse e = json_error(422, "bad \"file\"\n\\");
    CHECK(e.status == 422);
    CHECK(e.body == "{\"error\": \"bad \\\"file\\\"\\u000a\\\\\"}\n");
    CHECK(std::string(http_reason(413)) == "Content Too Large");
}
