#!/usr/bin/env bash
# Fetches Wine's Winsock conformance test (dlls/ws2_32/tests/sock.c of Wine 8.0) from
# Debian's `wine` source package into the cache directory $1, and checks it is the exact
# file the expectations were written against. Needs network access to Debian's archive
# (apt's ordinary client), no root and no change to the system's apt configuration: a
# private sources list and state directory under the cache are used. Wine's code is never
# committed to this project: it is downloaded here, read by the runner, and left in the cache.
set -euo pipefail
cache=${1:?usage: fetch.sh CACHE_DIR}
version=8.0~repack-4
sha256=db617aae1e22d0a8237d480fee8536c68d8738b6b6744c4cb002185c13ef1124
mkdir -p "$cache"
cache=$(cd "$cache" && pwd)
if [ -f "$cache/sock.c" ] && echo "$sha256  $cache/sock.c" | sha256sum -c --status; then
  exit 0
fi
command -v apt-get >/dev/null || { echo "fetch.sh: apt-get is needed to fetch Wine's source" >&2; exit 1; }
apt="$cache/apt"
mkdir -p "$apt/lists/partial" "$apt/cache/archives/partial" "$apt/dl"
# Bookworm carries Wine 8.0, whatever release this machine runs.
echo "deb-src http://deb.debian.org/debian bookworm main" >"$apt/sources.list"
opts=(-o "Dir::Etc::SourceList=$apt/sources.list" -o Dir::Etc::SourceParts=/nonexistent
      -o "Dir::State::Lists=$apt/lists" -o "Dir::Cache=$apt/cache" -o Debug::NoLocking=1
      -o "APT::Sandbox::User=$(id -un)")
apt-get "${opts[@]}" -qq update
(cd "$apt/dl" && apt-get "${opts[@]}" -qq source --download-only "wine=$version")
tar -xJf "$apt/dl/wine_8.0~repack.orig.tar.xz" -C "$apt" wine-8.0/dlls/ws2_32/tests/sock.c
cp "$apt/wine-8.0/dlls/ws2_32/tests/sock.c" "$cache/sock.c.new"
echo "$sha256  $cache/sock.c.new" | sha256sum -c --status || {
  echo "fetch.sh: sock.c from wine $version is not the file the expectations were written for" >&2
  exit 1
}
mv "$cache/sock.c.new" "$cache/sock.c"
rm -rf "$apt"
