#!/bin/sh
# Builds spandsp-sip-peer into ./build (not committed). Needs gcc, pkg-config, libspandsp-dev, libtiff-dev,
# libsofia-sip-ua-dev. The T.38 terminal, UDPTL and the shared command-line parts are compiled from ../spandsp-peer
# unchanged.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
peer="$here/../spandsp-peer"
out=${1:-"$here/build/spandsp-sip-peer"}
mkdir -p "$(dirname "$out")"
${CC:-cc} -std=gnu11 -O2 -Wall -Wextra -Wno-unused-parameter -pthread -I"$peer" \
  -o "$out" "$here"/*.c "$peer/t38-session.c" "$peer/udptl.c" "$peer/peer-cli.c" \
  $(pkg-config --cflags --libs sofia-sip-ua spandsp libtiff-4) -lm
echo "$out"
