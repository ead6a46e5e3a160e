#!/bin/sh
# Builds spandsp-peer into ./build (not committed). Needs gcc, pkg-config, libspandsp-dev, libtiff-dev.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
out=${1:-"$here/build/spandsp-peer"}
mkdir -p "$(dirname "$out")"
${CC:-cc} -std=gnu11 -O2 -Wall -Wextra -Wno-unused-parameter \
  -o "$out" "$here"/*.c \
  $(pkg-config --cflags --libs spandsp libtiff-4) -lm
echo "$out"
