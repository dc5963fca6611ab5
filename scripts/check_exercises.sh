#!/usr/bin/env bash
# check_exercises.sh [DOC] — keep the walkthrough's exercises true. Each
#   <!-- exercise: FILE | FROM | TO | TEST && TEST ... -->
# line of DOC (default docs/walkthrough.md) is applied to a copy of the code
# in build/exercises (FROM must occur exactly once in FILE, and becomes TO);
# the tests are built there and run, and every TEST named must be among those
# that fail. The copy keeps the objects of build/g++-native, so each exercise
# recompiles one file.
set -euo pipefail
cd "$(dirname "$0")/.."
doc=${1:-docs/walkthrough.md}
work=build/exercises
make -s -j2 build/g++-native/run_tests
rm -rf "$work" && mkdir -p "$work/build"
cp -a src tests third_party Makefile "$work"/
cp -a build/g++-native "$work/build/"

count=0
while IFS= read -r line; do
  spec=${line#*exercise: }; spec=${spec% -->}
  IFS='|' read -r file from to tests <<< "$spec"
  file=$(echo "$file" | xargs)
  from=${from# }; from=${from% }; to=${to# }; to=${to% }
  count=$((count + 1))
  echo "exercise $count: $file: '$from' -> '$to'"
  python3 - "$work/$file" "$from" "$to" <<'PY'
import sys
path, old, new = sys.argv[1:]
text = open(path).read()
if text.count(old) != 1:
    sys.exit(f"{path}: '{old}' occurs {text.count(old)} times, not once")
open(path, "w").write(text.replace(old, new))
PY
  make -s -C "$work" build/g++-native/run_tests
  log=$work/exercise$count.xml
  "$work/build/g++-native/run_tests" '~[cli]' -r xml > "$log" || true
  python3 - "$log" "$tests" <<'PY'
import sys
import xml.etree.ElementTree as ET
log, names = sys.argv[1], [n.strip() for n in sys.argv[2].split("&&")]
text = open(log).read()
report = ET.fromstring(text[:text.rindex("</Catch>") + len("</Catch>")])  # the runner's count line follows
failed = {case.get("name") for case in report.iter("TestCase")
          if case.find("OverallResult").get("success") == "false"}
if not failed:
    sys.exit("  no test failed")
for name in names:
    if name not in failed:
        sys.exit(f"  '{name}' did not fail; these did: {sorted(failed)}")
    print(f"  fails: {name}")
PY
  cp src/"${file#src/}" "$work/$file" && touch "$work/$file"  # restore, newer than the changed object
done < <(grep -o '<!-- exercise: .* -->' "$doc")
[ "$count" -gt 0 ] || { echo "no exercises in $doc" >&2; exit 1; }
echo "exercises: all $count break the tests they name"
