// tests/fuzz/fuzz_http.cpp — libFuzzer target for the HTTP request parser.
// Any bytes must give Incomplete, Complete or an Error with a 4xx/5xx status,
// never a crash; a complete request's parts must lie within the input, and
// the bytes it consumed alone must parse to the same request (what follows
// them, a pipelined request, changes nothing).
#include <cstdint>
#include <cstdlib>
#include <string>

#include "web/http.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string bytes(reinterpret_cast<const char*>(data), size);
    HttpRequest request;
    const ParseResult r = parse_http_request(bytes, &request);
    if (r.kind == ParseResult::Error && (r.status < 400 || r.status > 599)) std::abort();
    if (r.kind == ParseResult::Incomplete && bytes.size() > kMaxHeaderBytes + kMaxBodyBytes + 64) std::abort();
    if (r.kind == ParseResult::Complete) {
        if (r.consumed > size || request.body.size() > size || request.path.empty() || request.path[0] != '/')
            std::abort();
        HttpRequest again;
        const ParseResult alone = parse_http_request(bytes.substr(0, r.consumed), &again);
        if (alone.kind != ParseResult::Complete || alone.consumed != r.consumed || again.body != request.body ||
            again.path != request.path || again.method != request.method)
            std::abort();
        request.query_value("layers");
        request.keep_alive();
    }
    return 0;
}
