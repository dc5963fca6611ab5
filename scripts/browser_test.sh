#!/usr/bin/env bash
# scripts/browser_test.sh MODEL [SCREENSHOT.png] — ./alexnet serve in a real
# browser: starts the server on a free loopback port, has headless Chromium
# load the page twice — once loading t10k image 0 (label 7) through the
# page's own "random test image" path, once drawing a "1" with synthetic
# pointer events — and checks the digit the page shows (<body data-digit>).
# Saves a screenshot of the drawn "1". Needs Debian's chromium.
set -euo pipefail
model=$1
screenshot=${2:-build/serve.png}
log=$(mktemp)
./alexnet serve --model "$model" --port 0 > "$log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null; rm -f "$log"' EXIT
for _ in $(seq 100); do grep -q "listening on" "$log" && break; sleep 0.1; done
url=$(sed -n 's/^listening on \(http[^ ]*\)$/\1/p' "$log")
[ -n "$url" ] || { echo "browser test: the server did not start"; cat "$log"; exit 1; }
browser() { chromium --headless --no-sandbox --disable-gpu --hide-scrollbars --virtual-time-budget=15000 "$@" 2>/dev/null; }

body=$(browser --dump-dom "${url}?selftest=test0" | grep -o '<body[^>]*>')
echo "test image 0: $body"
[[ $body == *'data-digit="7"'* && $body == *'data-label="7"'* ]] || { echo "browser test: expected digit 7"; exit 1; }
body=$(browser --dump-dom "${url}?selftest=draw" | grep -o '<body[^>]*>')
echo "drawn stroke: $body"
[[ $body == *'data-digit="1"'* ]] || { echo "browser test: expected digit 1 for a vertical stroke"; exit 1; }
mkdir -p "$(dirname "$screenshot")"
browser --window-size=1100,1300 --screenshot="$screenshot" "${url}?selftest=draw" > /dev/null
[ -s "$screenshot" ] || { echo "browser test: no screenshot"; exit 1; }
echo "browser test passed; screenshot: $screenshot"
