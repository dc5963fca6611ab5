// schedule.h — the learning rate of every step: an optional linear warm-up,
// then a shape over the rest of the run.
//
//   constant  lr throughout (the original project's recipe)
//   step      lr, then lr/10 after half the steps, lr/100 after three quarters
//             (the AlexNet paper divided by 10 whenever validation stalled)
//   cosine    lr · (1 + cos(π·f)) / 2, f going from 0 to 1 over the run
//   onecycle  from lr/25 up to lr over the first 30% of the steps, then down
//             to lr/250,000, both halves cosine-shaped (PyTorch's OneCycleLR
//             with its defaults; it also cycles Adam's β1, which this does not)
//
// Leaves out: schedules driven by the validation loss, restarts.
#pragma once

#include <cstdint>
#include <string>

enum class ScheduleKind { Constant, Step, Cosine, OneCycle };

struct Schedule {
    ScheduleKind kind = ScheduleKind::Constant;
    double lr = 1e-4;     // the peak learning rate
    int64_t warmup = 0;   // steps of linear warm-up, from lr/warmup up to lr (not for onecycle)
    int64_t total = 1;    // steps in the whole run, warm-up included
};

// The learning rate of update number `step` (1 for the first).
double learning_rate(const Schedule& schedule, int64_t step);

// "constant", "step", "cosine", "onecycle" -> the kind; false for any other name.
bool schedule_from_name(const std::string& name, ScheduleKind* kind);
const char* schedule_name(ScheduleKind kind);
