// tests/fuzz/fuzz_sse.cpp — libFuzzer target for the Server-Sent Events
// writer: whatever the data (newlines, CRs, anything), format_event must
// give exactly one event that a browser parses back to the same data (its
// line breaks as LF), under the same name.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "web/http.h"

namespace {

// The HTML standard's event-stream parser, enough of it: lines end in CRLF,
// LF or CR; "field: value" lines; an empty line dispatches the event.
struct Parsed {
    std::string name, data;
};
std::vector<Parsed> parse_stream(const std::string& stream) {
    std::vector<Parsed> events;
    Parsed current;
    bool has_data = false;
    size_t i = 0;
    while (i < stream.size()) {
        size_t end = i;
        while (end < stream.size() && stream[end] != '\r' && stream[end] != '\n') ++end;
        if (end == stream.size()) break;  // an unfinished line is not a line
        const std::string line = stream.substr(i, end - i);
        i = end + (stream[end] == '\r' && end + 1 < stream.size() && stream[end + 1] == '\n' ? 2 : 1);
        if (line.empty()) {
            if (has_data) events.push_back(current);
            current = Parsed();
            has_data = false;
            continue;
        }
        const size_t colon = line.find(':');
        std::string field = line.substr(0, colon), value = colon == std::string::npos ? "" : line.substr(colon + 1);
        if (!value.empty() && value[0] == ' ') value.erase(0, 1);
        if (field == "event") current.name = value;
        if (field == "data") {
            current.data += (has_data ? "\n" : "") + value;
            has_data = true;
        }
    }
    return events;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string text(reinterpret_cast<const char*>(data), size);
    std::string expected;  // the data with every line break as LF
    for (size_t i = 0; i < text.size(); ++i) {
        if (text[i] == '\r' && i + 1 < text.size() && text[i + 1] == '\n') continue;
        expected += text[i] == '\r' ? '\n' : text[i];
    }
    const std::vector<Parsed> events = parse_stream(format_event("step", text));
    if (events.size() != 1 || events[0].name != "step" || events[0].data != expected) std::abort();
    return 0;
}
