#!/usr/bin/env bash
# Builds llama.cpp's `llama-server` (CPU, static, no curl) once per machine from a pinned
# source: the git bundle shipped inside the npm package node-llama-cpp@3.21.1.
#
#   scripts/llama-server/build.sh          build if missing, print the cache dir
#   scripts/llama-server/build.sh --print  print the cache dir (no build)
#
# Cache: ${XDG_CACHE_HOME:-~/.cache}/cto-harness/llama-server/<source-commit>/
#   bin/llama-server, gguf-py/, models/ggml-vocab-qwen2.gguf, SOURCE (what was built)
# The build runs in a temporary directory beside the cache and is renamed into place only
# when complete, so a killed build never leaves a half cache. A second run is a no-op.
set -euo pipefail

# Pinned source. node-llama-cpp 3.21.1: newer releases may make `npm ci` refuse the lock,
# and we never add it to package.json — `npm pack` fetches the tarball only.
PKG_SPEC="node-llama-cpp@3.21.1"
PKG_TGZ="node-llama-cpp-3.21.1.tgz"
PKG_INTEGRITY="sha512-E3N0Ev2Va0wzydvXYFwM9Hvyo07PoWjt8T/9GMc43Cvt8YkV/NU/tYUgEMC1grTPv2o9PRjQi0G3Wb5P/awiMg=="
SOURCE_COMMIT="80fb11ac73e66d89eae2c6a91d8a77428fa733ed"
JOBS="${LLAMA_BUILD_JOBS:-2}"

cache_root="${XDG_CACHE_HOME:-$HOME/.cache}/cto-harness/llama-server"
final="$cache_root/$SOURCE_COMMIT"

if [ "${1:-}" = "--print" ]; then echo "$final"; exit 0; fi
if [ -x "$final/bin/llama-server" ] && [ -f "$final/SOURCE" ]; then echo "$final"; exit 0; fi

need() { command -v "$1" >/dev/null 2>&1 || { echo "build.sh: '$1' is missing; install it (Debian: apt-get install $2)" >&2; exit 2; }; }
need cmake cmake; need g++ g++; need git git; need npm nodejs; need node nodejs; need tar tar

mkdir -p "$cache_root"
# A build killed with SIGKILL could not remove its temporary directory: remove those left by
# builds that started more than 3 hours ago (no build takes that long; a running one is younger).
find "$cache_root" -maxdepth 1 -name '.build-*' -type d -mmin +180 -exec rm -rf {} + 2>/dev/null || true
work="$(mktemp -d "$cache_root/.build-XXXXXX")"
trap 'rm -rf "$work"' EXIT
log() { echo "build.sh: $*" >&2; }

# 1. The tarball, checked against the pinned integrity before anything in it is used.
tgz_cache="$cache_root/downloads/$PKG_TGZ"
if [ ! -f "$tgz_cache" ]; then
  mkdir -p "$cache_root/downloads"
  log "fetching $PKG_SPEC (npm pack)"
  (cd "$work" && npm pack "$PKG_SPEC" --silent >/dev/null)
  mv "$work/$PKG_TGZ" "$tgz_cache.part.$$" && mv "$tgz_cache.part.$$" "$tgz_cache"
fi
actual="sha512-$(node -e 'const c=require("crypto"),f=require("fs");process.stdout.write(c.createHash("sha512").update(f.readFileSync(process.argv[1])).digest("base64"))' "$tgz_cache")"
if [ "$actual" != "$PKG_INTEGRITY" ]; then
  rm -f "$tgz_cache"
  echo "build.sh: $PKG_TGZ integrity mismatch (got $actual, pinned $PKG_INTEGRITY); removed it, try again" >&2
  exit 3
fi

# 2. The llama.cpp source from the bundle, at the pinned commit.
tar -xzf "$tgz_cache" -C "$work" package/llama/gitRelease.bundle
git -c advice.detachedHead=false clone --quiet "$work/package/llama/gitRelease.bundle" "$work/src"
head="$(git -C "$work/src" rev-parse HEAD)"
if [ "$head" != "$SOURCE_COMMIT" ]; then
  echo "build.sh: bundle HEAD is $head, pinned $SOURCE_COMMIT" >&2; exit 3
fi

# 3. Only the llama-server target: CPU, static (the binary is moved after the build, so no
#    build-tree rpaths), no curl (no downloads at run time).
log "building llama-server at $SOURCE_COMMIT with -j$JOBS (about 20 minutes on 2 cores)"
cmake -S "$work/src" -B "$work/build" -DCMAKE_BUILD_TYPE=Release -DLLAMA_CURL=OFF \
  -DBUILD_SHARED_LIBS=OFF -DGGML_BACKEND_DL=OFF -DLLAMA_BUILD_TESTS=OFF \
  -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_SERVER=ON -DGGML_OPENMP=OFF >"$work/cmake.log" 2>&1 \
  || { tail -40 "$work/cmake.log" >&2; exit 4; }
cmake --build "$work/build" --target llama-server -j "$JOBS" >"$work/build.log" 2>&1 \
  || { tail -40 "$work/build.log" >&2; exit 4; }

# 4. Assemble the cache entry, then rename it into place atomically.
out="$work/out"
mkdir -p "$out/bin" "$out/models"
cp "$work/build/bin/llama-server" "$out/bin/"
cp -r "$work/src/gguf-py" "$out/gguf-py"
cp "$work/src/models/ggml-vocab-qwen2.gguf" "$out/models/"
cp "$work/src/LICENSE" "$out/LICENSE"
printf 'package=%s\nintegrity=%s\ncommit=%s\n' "$PKG_SPEC" "$PKG_INTEGRITY" "$SOURCE_COMMIT" >"$out/SOURCE"
"$out/bin/llama-server" --version >"$out/VERSION" 2>&1 || true
if ! mv -T "$out" "$final" 2>/dev/null; then
  [ -x "$final/bin/llama-server" ] || { echo "build.sh: could not move the build into $final" >&2; exit 4; }
fi
echo "$final"
