// usage.h — the usage text of ./alexnet and of each command, printed by
// --help and after a usage error.
#pragma once

inline const char* kMainUsage =
    "usage: ./alexnet <command> [flags]\n"
    "\n"
    "AlexNet in plain C++17: trains on MNIST on the CPU, predicts digits in PGM images.\n"
    "\n"
    "commands:\n"
    "  train      train on MNIST, save a checkpoint each epoch, report test accuracy\n"
    "  evaluate   test accuracy, per-class accuracy and confusion matrix of a checkpoint\n"
    "  predict    name the digit in one or more PGM images\n"
    "  export     write one MNIST image as a PGM file, to try predict on\n"
    "  summary    the layer table: output shapes, parameters, multiply-adds, memory\n"
    "  plot       redraw the loss and accuracy curves of a training history as SVG\n"
    "  visualize  pictures of conv1's filters and of every conv layer's feature maps\n"
    "  bench      measure the machine's limits, SGEMM, training and inference speed\n"
    "\n"
    "Run ./alexnet <command> --help for its flags.\n";

inline const char* kTrainUsage =
    "usage: ./alexnet train [flags]\n"
    "\n"
    "  --data DIR          MNIST IDX files (default data/mnist)\n"
    "  --model FILE        checkpoint to write after every epoch (default alexnet.model)\n"
    "  --epochs N          epochs (default 2)\n"
    "  --batch-size N      images per step (default 32)\n"
    "  --lr X              learning rate (default 1e-4 for Adam, 0.01 for SGD)\n"
    "  --optimizer NAME    adam (default) or sgd (with momentum, the AlexNet paper's);\n"
    "                      give it again with --resume\n"
    "  --momentum X        SGD's momentum (default 0.9)\n"
    "  --dropout P         drop each output of dense1 and dense2 with probability P in\n"
    "                      training, as the AlexNet paper does with 0.5 (default 0: off;\n"
    "                      give it again with --resume)\n"
    "  --augment           shift (2 px), scale (0.9-1.1) and rotate (10 degrees) every\n"
    "                      training image at random (never validation or test images)\n"
    "  --schedule NAME     learning rate over the run: constant (default), step (/10 at\n"
    "                      1/2 and 3/4 of it), cosine, onecycle (up from lr/25 over the\n"
    "                      first 30%, then down); give it again with --resume\n"
    "  --warmup N          steps of linear warm-up to --lr first (default 0; not onecycle)\n"
    "  --weight-decay X    decoupled weight decay, as AdamW (default 0)\n"
    "  --filters F         width multiplier f (default 8)\n"
    "  --image-size S      input side after resizing 28x28 (default 56, at least 39)\n"
    "  --channels C        1, or 3 to replicate grey to RGB (default 1)\n"
    "  --val-split X       fraction of the 60,000 held out for validation (default 0.2)\n"
    "  --seed N            seed for weights, split and order (default 7)\n"
    "  --threads N         worker threads (default: all hardware threads)\n"
    "  --steps N           stop after N optimizer steps (default: no limit)\n"
    "  --no-shuffle        take training images in file order\n"
    "  --init FILE         start from FILE's weights with fresh optimizer state\n"
    "  --resume            continue --model: weights, Adam moments and step\n"
    "  --log-every N       steps between progress lines and history rows (default 100)\n"
    "  --quiet             no progress lines, only one line per epoch and the result\n"
    "\n"
    "Also writes FILE.history.csv (a row every --log-every steps and per epoch)\n"
    "and FILE.curves.svg (loss and accuracy curves, redrawn every epoch).\n";

inline const char* kEvaluateUsage =
    "usage: ./alexnet evaluate [flags]\n"
    "\n"
    "Test accuracy, per-class accuracy and the confusion matrix on the 10,000\n"
    "t10k images; the matrix is also drawn as an SVG heat map.\n"
    "\n"
    "  --model FILE        checkpoint (default alexnet.model)\n"
    "  --data DIR          MNIST IDX files (default data/mnist)\n"
    "  --confusion FILE    heat map to write (default FILE.confusion.svg for --model FILE)\n"
    "  --errors DIR        write each misclassified test image to DIR as\n"
    "                      INDEX_true<T>_pred<P>.pgm\n"
    "  --batch-size N      images per forward pass (default 100)\n"
    "  --threads N         worker threads (default: all hardware threads)\n";

inline const char* kSummaryUsage =
    "usage: ./alexnet summary [flags]\n"
    "\n"
    "Prints each layer with its output shape, parameters and multiply-adds per\n"
    "image, the totals, and the memory training needs.\n"
    "\n"
    "  --filters F         (default 8)\n"
    "  --image-size S      (default 56)\n"
    "  --channels C        (default 1)\n"
    "  --batch-size N      batch for the activation memory (default 32)\n"
    "  --model FILE        describe this checkpoint's configuration instead\n";

inline const char* kPlotUsage =
    "usage: ./alexnet plot HISTORY.csv [--out FILE.svg]\n"
    "\n"
    "Draws the loss and accuracy curves of a training history (the\n"
    "MODEL.history.csv that train writes) as a self-contained SVG.\n"
    "\n"
    "  --out FILE          SVG to write (default: HISTORY with .svg for .csv)\n";

inline const char* kVisualizeUsage =
    "usage: ./alexnet visualize --out DIR [flags]\n"
    "\n"
    "Writes DIR/conv1_filters.pgm (.ppm for 3 channels): conv1's filters, each\n"
    "scaled to the full grey range and enlarged, in a grid. With --image, also\n"
    "DIR/input.pgm (the 28x28 the network sees) and DIR/convN_features.pgm:\n"
    "every channel of each conv layer's output for that image.\n"
    "\n"
    "  --out DIR           folder for the pictures (created if missing)\n"
    "  --model FILE        checkpoint (default alexnet.model)\n"
    "  --image IMG.pgm     an image to show the feature maps of\n"
    "  --scale N           enlargement of each pixel (default 8)\n";

inline const char* kPredictUsage =
    "usage: ./alexnet predict IMG.pgm [IMG.pgm ...] [flags]\n"
    "\n"
    "Prints the predicted digit and the ten class probabilities of each image.\n"
    "PGM P2 or P5, any size, maxval up to 65535. A photo or drawing is first\n"
    "brought to MNIST's form: inverted if its background is light, cropped to\n"
    "the digit, scaled to fit 20x20, centred by mass in 28x28. A 28x28 image\n"
    "with a dark background (an MNIST image) is used as it is.\n"
    "\n"
    "  --model FILE        checkpoint (default alexnet.model)\n"
    "  --top K             show only the K most likely digits\n"
    "  --plain-resize      skip the MNIST-form step: only resize to 28x28 (bilinear)\n"
    "  --show-input FILE   write the 28x28 image the network saw as PGM\n"
    "                      (FILE-1.pgm, FILE-2.pgm, ... for several images)\n"
    "  --json              one JSON object per line per image: file, digit,\n"
    "                      probabilities (and top with --top)\n"
    "  --threads N         worker threads (default: all hardware threads)\n";

inline const char* kExportUsage =
    "usage: ./alexnet export --index N --out FILE.pgm [flags]\n"
    "\n"
    "Writes MNIST image N as an 8-bit PGM and prints its label.\n"
    "\n"
    "  --index N           image index (0-based)\n"
    "  --out FILE          PGM file to write\n"
    "  --set test|train    t10k (default) or train images\n"
    "  --data DIR          MNIST IDX files (default data/mnist)\n";

inline const char* kBenchUsage =
    "usage: ./alexnet bench [flags]\n"
    "\n"
    "Measures FMA peak and triad bandwidth in-process, SGEMM at every GEMM shape\n"
    "of a training step, a per-layer step profile, training images/s at 1 and N\n"
    "threads, inference images/s and batch-1 latency. Synthetic data.\n"
    "\n"
    "  --threads N         threads for the N-thread figures (default: all hardware threads)\n"
    "  --json              print JSON instead of tables\n"
    "  --filters F         model to measure (default 8)\n"
    "  --image-size S      (default 56)\n"
    "  --channels C        (default 1)\n"
    "  --batch-size N      (default 32)\n"
    "  --steps N           measured training steps (default 40)\n"
    "  --check-sgemm F     the speed gate: measure only SGEMM 1024^3 and the FMA peak on\n"
    "                      1 thread; exit 1 if SGEMM reaches less than F (0..1) of the peak\n";
