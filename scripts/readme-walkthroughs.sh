#!/usr/bin/env bash
# Runs the README's walk-throughs verbatim against a demo started in a fresh directory, the way a newcomer
# would: `borderless demo` in an empty directory, then each shell block of the walk-through sections in a
# shell of its own, in that directory. A failing HTTP call fails the run (curl gets --fail-with-body); the
# blocks end with `borderless doctor`, which must find the ledgers balanced.
#
# Usage: scripts/readme-walkthroughs.sh PATH/TO/borderless   (needs curl, jq and python3; port 8080 free)
set -euo pipefail
BIN=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
README=$(cd "$(dirname "$0")/.." && pwd)/README.md
[ -x "$BIN" ] || { echo "no borderless binary at $1" >&2; exit 2; }
for tool in curl jq python3; do command -v $tool >/dev/null || { echo "$tool is needed" >&2; exit 2; }; done
if curl -s -o /dev/null http://127.0.0.1:8080/health; then
  echo "something already answers on 127.0.0.1:8080, where the README's demo runs" >&2; exit 2
fi
WORK=$(mktemp -d)
cd "$WORK"
# The demo as a newcomer starts it: no BORDERLESS_* settings from the caller's environment.
env -u BORDERLESS_DATA_DIR -u BORDERLESS_DATABASE_URL -u BORDERLESS_LISTEN "$BIN" demo > demo.log 2>&1 &
DEMO=$!
trap 'kill $DEMO 2>/dev/null || true; wait $DEMO 2>/dev/null || true; rm -rf "$WORK"' EXIT
# Ready when the demo's catalog is seeded (the API answers before that).
for _ in $(seq 1 240); do
  curl -sf http://127.0.0.1:8080/store/products/wireless-noise-cancelling-earbuds-lite >/dev/null 2>&1 && break
  sleep 0.5
done
curl -sf http://127.0.0.1:8080/store/products/wireless-noise-cancelling-earbuds-lite >/dev/null \
  || { tail -50 demo.log >&2; echo "the demo did not come up" >&2; exit 1; }
sleep 2  # the first recommendation model is trained right after seeding
python3 - "$README" "$WORK/blocks" <<'PY'
import os, re, sys
readme, out = sys.argv[1], sys.argv[2]
walks = ["Ask the shopping assistant", "Buy for pickup with curl", "Pay with the wallet, at the counter by QR, and return anywhere", "Search", "Recommendations"]
os.makedirs(out)
heading, n = None, 0
lines = open(readme, encoding="utf-8").read().split("\n")
i = 0
while i < len(lines):
    if lines[i].startswith("## "):
        heading = lines[i][3:].strip()
    if lines[i].strip() == "```sh" and heading in walks:
        j = i + 1
        while lines[j].strip() != "```":
            j += 1
        n += 1
        with open(f"{out}/{n:02d}.sh", "w", encoding="utf-8") as f:
            f.write("# " + heading + "\n" + "\n".join(lines[i + 1 : j]) + "\n")
        i = j
    i += 1
if n < 5:
    sys.exit(f"found only {n} walk-through blocks in the README")
PY
export PATH="$(dirname "$BIN"):$PATH"
for block in "$WORK"/blocks/*.sh; do
  echo "== $(head -1 "$block" | cut -c3-) ($(basename "$block"))"
  bash -c 'set -euo pipefail; curl() { command curl --fail-with-body "$@"; }; source "$0"' "$block" > "$block.out" 2>&1 \
    || { cat "$block.out" >&2; echo "FAILED: the README block $(basename "$block") under \"$(head -1 "$block" | cut -c3-)\"" >&2; exit 1; }
  if grep -q '^null$' "$block.out"; then
    cat "$block.out" >&2; echo "FAILED: the README block $(basename "$block") printed null (a field the API does not have)" >&2; exit 1
  fi
  head -c 600 "$block.out"; echo
done
echo "ok: every README walk-through ran verbatim"
