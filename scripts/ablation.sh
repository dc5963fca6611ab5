#!/usr/bin/env bash
# scripts/ablation.sh — the ablation table of docs/experiments.md: the default recipe, each
# of the AlexNet paper's ideas added to it alone, and --recipe best, each
# trained with 3 seeds. Prints one markdown row per recipe (test accuracy
# mean and range, median wall time, median training images/s, largest peak
# RSS) and draws the seed-1 histories on one chart. Needs GNU time
# (/usr/bin/time) for the memory.
#
#   scripts/ablation.sh [OUT_DIR] [ROW ...]     (default OUT_DIR build/ablation, all rows)
#   ALEXNET=build/g++-x86-64-v3/alexnet scripts/ablation.sh    (another build)
#
# Every run uses all hardware threads; on 2 cores the whole table takes about
# 50 minutes. Models, logs and histories stay in OUT_DIR.
set -euo pipefail

alexnet=${ALEXNET:-./alexnet}
out=${1:-build/ablation}
shift || true
mkdir -p "$out"

# name|flags (added to the default recipe: filters 8, 56x56, Adam 1e-4,
# batch 32, 2 epochs, 20% held out for validation)
rows=(
  "default|"
  "dropout|--dropout 0.5"
  "augment|--augment"
  "elastic|--elastic 10"
  "cosine|--schedule cosine"
  "onecycle|--schedule onecycle --lr 1e-3"
  "weight-decay|--weight-decay 0.05"
  "sgd|--optimizer sgd --momentum 0.9"
  "lrn|--lrn"
  "pool3x3|--pool 3x3s2"
  "image72|--image-size 72"
  "best|--recipe best"
)

median() { sort -g | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'; }

echo "| recipe | flags | test accuracy, mean (min–max) | wall time | images/s | peak RSS |"
echo "|---|---|---|---|---|---|"
histories=()
for row in "${rows[@]}"; do
  name=${row%%|*}
  flags=${row#*|}
  if [ $# -gt 0 ] && [[ " $* " != *" $name "* ]]; then continue; fi
  accuracies=() seconds=() speeds=() memory=()
  for seed in 1 2 3; do
    model="$out/$name-$seed.model"
    # shellcheck disable=SC2086  # flags are several words
    /usr/bin/time -f "%M" -o "$out/$name-$seed.rss" \
      "$alexnet" train $flags --seed "$seed" --model "$model" --quiet > "$out/$name-$seed.log"
    memory+=("$(tail -n 1 "$out/$name-$seed.rss")")  # KiB
    accuracies+=("$(sed -n 's/^test accuracy: \([0-9.]*\)%.*/\1/p' "$out/$name-$seed.log")")
    # total time M:SS or H:MM:SS -> seconds
    seconds+=("$(sed -n 's/.*total time \([0-9:]*\)$/\1/p' "$out/$name-$seed.log" |
                 awk -F: '{s = 0; for (i = 1; i <= NF; i++) s = 60 * s + $i; print s}')")
    speeds+=("$(tail -n 1 "$model.history.csv" | cut -d, -f7)")
  done
  histories+=("$out/$name-1.model.history.csv")
  mean=$(printf '%s\n' "${accuracies[@]}" | awk '{s += $1} END {printf "%.2f", s / NR}')
  low=$(printf '%s\n' "${accuracies[@]}" | sort -g | head -n 1)
  high=$(printf '%s\n' "${accuracies[@]}" | sort -g | tail -n 1)
  wall=$(printf '%s\n' "${seconds[@]}" | median)
  speed=$(printf '%s\n' "${speeds[@]}" | median)
  rss=$(printf '%s\n' "${memory[@]}" | sort -g | tail -n 1)
  printf '| %s | `%s` | %s%% (%s–%s) | %d:%02d | %.0f | %.1f MB |\n' "$name" "${flags:-(none)}" "$mean" "$low" \
    "$high" $((wall / 60)) $((wall % 60)) "$speed" "$(echo "$rss" | awk '{print $1 * 1024 / 1e6}')"
done
"$alexnet" plot "${histories[@]}" --out "$out/ablation.svg" > /dev/null
echo
echo "curves of each recipe's seed-1 run: $out/ablation.svg"
