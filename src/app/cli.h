// cli.h — the command line as tables. Each command declares its flags once,
// each with its value, range, default and help; parsing, checking and the
// --help text are all read from that one table. "--flag value" and
// "--flag=value" are both accepted. Every problem is a UsageError, which main
// prints with the command's usage (exit 2).
//
// Leaves out: short options, abbreviations, flags that repeat into lists.
#pragma once

#include <functional>
#include <initializer_list>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

struct UsageError : std::runtime_error {
    using std::runtime_error::runtime_error;
    std::string usage;  // the usage text of the command it concerns (filled in by CommandLine)
};

// One flag: how it is written, what it does, and how its value is read.
struct Flag {
    std::string name;       // "--epochs"
    std::string value;      // "N"; empty for a switch, which takes no value
    std::string help;       // may hold '\n' for further lines
    std::string fallback;   // the default as --help shows it ("" shows none)
    std::function<void(const std::string& value)> set;  // parses and checks the value; throws UsageError
    // For a shorthand like --recipe: the flags its value stands for, which are
    // put before all others so that any flag given as well wins.
    std::function<std::vector<std::string>(const std::string& value)> expand;

    Flag& defaults_to(std::string text) {
        fallback = std::move(text);
        return *this;
    }
};

// The builders: each reads the default from *target, so it is written once,
// where the options struct declares it.
template <typename Int>
Flag integer_flag(const std::string& name, const std::string& value, Int* target, long long lo, long long hi,
                  const std::string& help);
// A real number in [lo, hi], or (lo, hi] / [lo, hi) where an end is open.
struct Range {
    double lo, hi;
    bool lo_open = false, hi_open = false;
};
Flag real_flag(const std::string& name, const std::string& value, double* target, Range range,
               const std::string& help);
Flag text_flag(const std::string& name, const std::string& value, std::string* target, const std::string& help);
Flag switch_flag(const std::string& name, bool* target, const std::string& help);
// One of a few names, each standing for a value of the target.
template <typename T>
Flag choice_flag(const std::string& name, const std::string& value, T* target,
                 std::vector<std::pair<std::string, T>> choices, const std::string& help);

// What one command declares, and what it was given.
struct CommandLine {
    std::string usage;           // "./alexnet train [flags]" (several lines for several forms)
    std::string about;           // what the command does, printed before the flags
    std::vector<Flag> flags;
    std::string positional;      // the name of its plain arguments ("IMG"), or "" for none
    std::string notes;           // printed after the flags

    std::vector<std::string> arguments;  // the plain arguments given, after parse
    std::vector<std::string> given;      // the flags given, in order, after parse

    // Reads args into the flags' targets. Returns false if --help (or -h)
    // was asked for, after printing the usage to stdout.
    bool parse(std::vector<std::string> args);
    bool was_given(const std::string& flag) const;
    std::string usage_text() const;
    [[noreturn]] void fail(const std::string& message) const;
};

// x as printf's %g writes it: 0.9, 1e-05, 100.
std::string shortest(double x);
// text broken into lines of at most `width` characters, at spaces.
std::string wrap(const std::string& text, size_t width = 78);

// ---------------------------------------------------------------------------

// The value of a whole-number flag, checked against [lo, hi].
long long parse_integer(const std::string& name, const std::string& value, long long lo, long long hi);

template <typename Int>
Flag integer_flag(const std::string& name, const std::string& value, Int* target, long long lo, long long hi,
                  const std::string& help) {
    Flag f;
    f.name = name;
    f.value = value;
    f.help = help;
    f.fallback = std::to_string(*target);
    f.set = [name, target, lo, hi](const std::string& v) { *target = static_cast<Int>(parse_integer(name, v, lo, hi)); };
    return f;
}

template <typename T>
Flag choice_flag(const std::string& name, const std::string& value, T* target,
                 std::vector<std::pair<std::string, T>> choices, const std::string& help) {
    Flag f;
    f.name = name;
    f.value = value;
    f.help = help;
    std::string names;
    for (size_t i = 0; i < choices.size(); ++i) {
        if (choices[i].second == *target) f.fallback = choices[i].first;
        names += (i == 0 ? "" : i + 1 == choices.size() ? " or " : ", ") + choices[i].first;
    }
    f.set = [name, target, choices, names](const std::string& v) {
        for (const auto& [text, choice] : choices)
            if (v == text) {
                *target = choice;
                return;
            }
        throw UsageError(name + " must be " + names + ", not '" + v + "'");
    };
    return f;
}
