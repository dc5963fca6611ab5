// args.h — the command line's flags: a small walker over argv that accepts
// "--flag value" and "--flag=value", checks numbers and ranges, and reports
// every problem as a UsageError (main prints it with the usage, exit 2).
#pragma once

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <vector>

struct UsageError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

// Walks argv; "--flag value" and "--flag=value" are both accepted.
class Args {
public:
    Args(int argc, char** argv, int first) : args_(argv + first, argv + argc) {}

    bool done() const { return i_ >= args_.size(); }
    // The next argument; if it is --flag=value, the value is kept for value().
    std::string next() {
        std::string a = args_[i_++];
        pending_.clear();
        has_pending_ = false;
        const size_t eq = a.find('=');
        if (a.rfind("--", 0) == 0 && eq != std::string::npos) {
            pending_ = a.substr(eq + 1);
            has_pending_ = true;
            a = a.substr(0, eq);
        }
        return a;
    }
    std::string value(const std::string& flag) {
        if (has_pending_) {
            has_pending_ = false;
            return pending_;
        }
        if (done()) throw UsageError(flag + " needs a value");
        return args_[i_++];
    }
    void no_value(const std::string& flag) const {
        if (has_pending_) throw UsageError(flag + " takes no value");
    }
    long long integer(const std::string& flag, long long lo, long long hi) {
        const std::string v = value(flag);
        char* end = nullptr;
        errno = 0;
        const long long x = std::strtoll(v.c_str(), &end, 10);
        if (v.empty() || *end != '\0' || errno == ERANGE)
            throw UsageError(flag + " needs a whole number, not '" + v + "'");
        if (x < lo || x > hi)
            throw UsageError(flag + " must be between " + std::to_string(lo) + " and " +
                             std::to_string(hi) + ", not " + v);
        return x;
    }
    // x as printf's %g writes it: 0.9, 1e-05, 100 (std::to_string would say 0.900000).
    static std::string shortest(double x) {
        char text[32];
        std::snprintf(text, sizeof text, "%g", x);
        return text;
    }

    double real(const std::string& flag, double lo, double hi, bool lo_inclusive) {
        const std::string v = value(flag);
        char* end = nullptr;
        const double x = std::strtod(v.c_str(), &end);
        if (v.empty() || *end != '\0' || !std::isfinite(x))
            throw UsageError(flag + " needs a number, not '" + v + "'");
        if (x > hi || x < lo || (!lo_inclusive && x == lo))
            throw UsageError(flag + " must be " + (lo_inclusive ? "at least " : "above ") + shortest(lo) +
                             " and at most " + shortest(hi) + ", not " + v);
        return x;
    }

    // Takes every "flag NAME" (or "flag=NAME") out of the arguments not yet
    // read and puts expand(NAME) in front of them: flags a shorthand stands
    // for come first, so any flag given explicitly comes later and wins.
    template <typename Expand>
    void expand_to_front(const std::string& flag, Expand expand) {
        std::vector<std::string> front, rest;
        for (size_t k = i_; k < args_.size(); ++k) {
            const std::string& a = args_[k];
            std::string name;
            if (a == flag) {
                if (k + 1 == args_.size()) throw UsageError(flag + " needs a value");
                name = args_[++k];
            } else if (a.rfind(flag + "=", 0) == 0) {
                name = a.substr(flag.size() + 1);
            } else {
                rest.push_back(a);
                continue;
            }
            for (const std::string& expanded : expand(name)) front.push_back(expanded);
        }
        args_.resize(i_);
        args_.insert(args_.end(), front.begin(), front.end());
        args_.insert(args_.end(), rest.begin(), rest.end());
    }

private:
    std::vector<std::string> args_;
    size_t i_ = 0;
    std::string pending_;
    bool has_pending_ = false;
};

[[noreturn]] inline void unknown_flag(const std::string& flag) {
    if (flag.rfind("-", 0) == 0) throw UsageError("unknown flag " + flag);
    throw UsageError("unexpected argument '" + flag + "'");
}

inline int threads_flag(Args& args, const std::string& flag) {
    return static_cast<int>(args.integer(flag, 1, 1024));
}
