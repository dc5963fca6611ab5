// schedule.cpp — learning-rate schedules: see schedule.h.
#include "nn/schedule.h"

#include <algorithm>
#include <cmath>

namespace {

constexpr double kPi = 3.14159265358979323846;

// From a (at f = 0) to b (at f = 1) along half a cosine wave.
double cosine_between(double a, double b, double f) { return b + (a - b) * 0.5 * (1.0 + std::cos(kPi * f)); }

}  // namespace

double learning_rate(const Schedule& s, int64_t step) {
    const int64_t total = std::max<int64_t>(1, s.total);
    if (s.kind == ScheduleKind::OneCycle) {
        // f: 0 at the first step, 1 at the last (as PyTorch's OneCycleLR counts)
        const double f = total > 1 ? static_cast<double>(step - 1) / static_cast<double>(total - 1) : 1.0;
        const double start = s.lr / 25.0, end = start / 1e4, rise = 0.3;
        return f < rise ? cosine_between(start, s.lr, f / rise) : cosine_between(s.lr, end, (f - rise) / (1.0 - rise));
    }
    if (step <= s.warmup) return s.lr * static_cast<double>(step) / static_cast<double>(s.warmup);
    const int64_t t = step - s.warmup, T = std::max<int64_t>(1, total - s.warmup);  // t = 1 .. T
    switch (s.kind) {
    case ScheduleKind::Step:
        return s.lr * (2 * t > T ? 0.1 : 1.0) * (4 * t > 3 * T ? 0.1 : 1.0);
    case ScheduleKind::Cosine:
        return cosine_between(s.lr, 0.0, static_cast<double>(t - 1) / T);
    default:
        return s.lr;
    }
}

bool schedule_from_name(const std::string& name, ScheduleKind* kind) {
    for (ScheduleKind k : {ScheduleKind::Constant, ScheduleKind::Step, ScheduleKind::Cosine, ScheduleKind::OneCycle})
        if (name == schedule_name(k)) {
            *kind = k;
            return true;
        }
    return false;
}

const char* schedule_name(ScheduleKind kind) {
    switch (kind) {
    case ScheduleKind::Step: return "step";
    case ScheduleKind::Cosine: return "cosine";
    case ScheduleKind::OneCycle: return "onecycle";
    default: return "constant";
    }
}
