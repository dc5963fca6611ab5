#!/usr/bin/env bash
# check_drawn_digits.sh [MODEL] — predict every digit in tests/drawn/ and fail
# unless at least 9 in 10 are named correctly.
#
# tests/drawn/FONT_D.pgm is the digit D drawn dark-on-light at its own size
# (40-130 px) with ImageMagick in four handwriting-like fonts (Humor Sans,
# Comic Neue Bold, Breip, DkgHandwriting), so predict must bring each to
# MNIST's form first. Needs a trained model, so CI runs it after training.
set -euo pipefail
cd "$(dirname "$0")/.."
model=${1:-alexnet.model}
correct=0 total=0 wrong=()
while read -r file digit; do
  expected=$(basename "$file" .pgm); expected=${expected##*_}
  total=$((total + 1))
  if [ "$digit" = "$expected" ]; then correct=$((correct + 1)); else wrong+=("$(basename "$file") -> $digit"); fi
done < <(./alexnet predict tests/drawn/*.pgm --model "$model" --json |
         sed -E 's/^\{"file": "([^"]*)", "digit": ([0-9]).*/\1 \2/')
echo "drawn digits: $correct of $total named correctly${wrong:+ (wrong: ${wrong[*]})}"
[ "$total" -gt 0 ] && [ $((correct * 10)) -ge $((total * 9)) ]
