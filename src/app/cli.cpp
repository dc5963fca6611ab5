// cli.cpp — parsing and --help from the flag tables of cli.h.
#include "app/cli.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>

std::string shortest(double x) {
    char text[32];
    std::snprintf(text, sizeof text, "%g", x);
    return text;
}

std::string wrap(const std::string& text, size_t width) {
    std::string out, line;
    size_t start = 0;
    while (start < text.size()) {
        const size_t end = std::min(text.find(' ', start), text.size());
        const std::string word = text.substr(start, end - start);
        if (!line.empty() && line.size() + 1 + word.size() > width) {
            out += line + "\n";
            line.clear();
        }
        line += (line.empty() ? "" : " ") + word;
        start = end + 1;
    }
    return out + line;
}

long long parse_integer(const std::string& name, const std::string& v, long long lo, long long hi) {
    char* end = nullptr;
    errno = 0;
    const long long x = std::strtoll(v.c_str(), &end, 10);
    if (v.empty() || *end != '\0' || errno == ERANGE) throw UsageError(name + " needs a whole number, not '" + v + "'");
    if (x < lo || x > hi)
        throw UsageError(name + " must be between " + std::to_string(lo) + " and " + std::to_string(hi) + ", not " + v);
    return x;
}

Flag real_flag(const std::string& name, const std::string& value, double* target, Range r, const std::string& help) {
    Flag f;
    f.name = name;
    f.value = value;
    f.help = help;
    f.fallback = shortest(*target);
    f.set = [name, target, r](const std::string& v) {
        char* end = nullptr;
        const double x = std::strtod(v.c_str(), &end);
        if (v.empty() || *end != '\0' || !std::isfinite(x)) throw UsageError(name + " needs a number, not '" + v + "'");
        if (x < r.lo || x > r.hi || (r.lo_open && x == r.lo) || (r.hi_open && x == r.hi))
            throw UsageError(name + " must be " + (r.lo_open ? "above " : "at least ") + shortest(r.lo) + " and " +
                             (r.hi_open ? "below " : "at most ") + shortest(r.hi) + ", not " + v);
        *target = x;
    };
    return f;
}

Flag text_flag(const std::string& name, const std::string& value, std::string* target, const std::string& help) {
    Flag f;
    f.name = name;
    f.value = value;
    f.help = help;
    f.fallback = *target;
    f.set = [target](const std::string& v) { *target = v; };
    return f;
}

Flag switch_flag(const std::string& name, bool* target, const std::string& help) {
    Flag f;
    f.name = name;
    f.help = help;
    f.set = [target](const std::string&) { *target = true; };
    return f;
}

// ---------------------------------------------------------------------------
// CommandLine

bool CommandLine::parse(std::vector<std::string> args) {
    auto find = [this](const std::string& name) -> const Flag* {
        for (const Flag& f : flags)
            if (f.name == name) return &f;
        return nullptr;
    };
    try {
        // Shorthands first: "--recipe best" is replaced by the flags it stands
        // for, placed before every other argument, so flags given as well win.
        std::vector<std::string> front, rest;
        for (size_t i = 0; i < args.size(); ++i) {
            const std::string& a = args[i];
            const size_t eq = a.find('=');
            const Flag* f = find(a.substr(0, a.rfind("--", 0) == 0 ? eq : std::string::npos));
            if (!f || !f->expand) {
                rest.push_back(a);
                continue;
            }
            if (eq == std::string::npos && i + 1 == args.size()) throw UsageError(f->name + " needs a value");
            const std::string value = eq == std::string::npos ? args[++i] : a.substr(eq + 1);
            for (const std::string& e : f->expand(value)) front.push_back(e);
            given.push_back(f->name);
        }
        front.insert(front.end(), rest.begin(), rest.end());
        args = front;

        for (size_t i = 0; i < args.size(); ++i) {
            std::string a = args[i];
            if (a == "--help" || a == "-h") {
                std::fputs(usage_text().c_str(), stdout);
                return false;
            }
            if (a.rfind("-", 0) != 0 || a == "-") {  // a plain argument ("-" included)
                if (positional.empty()) throw UsageError("unexpected argument '" + a + "'");
                arguments.push_back(a);
                continue;
            }
            const size_t eq = a.rfind("--", 0) == 0 ? a.find('=') : std::string::npos;
            const bool inline_value = eq != std::string::npos;
            const std::string value_after = inline_value ? a.substr(eq + 1) : "";
            if (inline_value) a = a.substr(0, eq);
            const Flag* f = find(a);
            if (!f) throw UsageError("unknown flag " + a);
            if (f->value.empty()) {
                if (inline_value) throw UsageError(a + " takes no value");
                f->set("");
            } else if (inline_value) {
                f->set(value_after);
            } else {
                if (i + 1 == args.size()) throw UsageError(a + " needs a value");
                f->set(args[++i]);
            }
            given.push_back(a);
        }
    } catch (UsageError& e) {
        e.usage = usage_text();
        throw;
    }
    return true;
}

bool CommandLine::was_given(const std::string& flag) const {
    for (const std::string& g : given)
        if (g == flag) return true;
    return false;
}

void CommandLine::fail(const std::string& message) const {
    UsageError e(message);
    e.usage = usage_text();
    throw e;
}

std::string CommandLine::usage_text() const {
    std::string text = "usage: " + usage + "\n";
    if (!about.empty()) text += "\n" + about + "\n";
    if (!flags.empty()) text += "\n";
    for (const Flag& f : flags) {
        std::string left = "  " + f.name + (f.value.empty() ? "" : " " + f.value);
        std::string help = f.help + (f.fallback.empty() ? "" : " (default " + f.fallback + ")");
        left.resize(std::max<size_t>(left.size() + 1, 22), ' ');
        // Continuation lines of the help line up under its first.
        for (size_t start = 0; start <= help.size();) {
            const size_t end = std::min(help.find('\n', start), help.size());
            text += (start == 0 ? left : std::string(22, ' ')) + help.substr(start, end - start) + "\n";
            start = end + 1;
        }
    }
    if (!notes.empty()) text += "\n" + notes + "\n";
    return text;
}
