#!/usr/bin/env bash
# scripts/browser_test.sh MODEL [SCREENSHOT.png] — ./alexnet serve in a real
# browser: starts the server on a free loopback port and runs
# scripts/browser_test.mjs against it in headless Chromium (loading a test
# image, drawing a "1", training from the page). Needs Debian's chromium,
# node and npm; installs playwright-core (no browser download) into
# build/playwright the first time.
set -euo pipefail
cd "$(dirname "$0")/.."
model=$1
screenshot=${2:-build/serve.png}
if [ ! -d build/playwright/node_modules/playwright-core ]; then
  mkdir -p build/playwright
  (cd build/playwright && npm install --silent --no-audit --no-fund playwright-core@1.65.2 > /dev/null)
fi
log=$(mktemp)
./alexnet serve --model "$model" --train-model build/browser-test.model --port 0 > "$log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null; rm -f "$log"' EXIT
for _ in $(seq 100); do grep -q "listening on" "$log" && break; sleep 0.1; done
url=$(sed -n 's/^listening on \(http[^ ]*\)$/\1/p' "$log")
[ -n "$url" ] || { echo "browser test: the server did not start"; cat "$log"; exit 1; }
mkdir -p "$(dirname "$screenshot")"
cp scripts/browser_test.mjs build/playwright/
node build/playwright/browser_test.mjs "$url" "$screenshot"
[ -s "$screenshot" ] || { echo "browser test: no screenshot"; exit 1; }
echo "browser test passed; screenshot: $screenshot"
