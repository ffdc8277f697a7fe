#!/usr/bin/env bash
# The Ta-Feng side-by-side of docs/benchmarks.md: borderless's recommendation blend against global
# popularity, personal top-frequency and implicit's ALS (installed here from PyPI into a virtualenv).
#   scripts/recs-eval.sh [DATA_DIR]     (default ../shared/data/tafeng)
set -euo pipefail
cd "$(dirname "$0")/.."
data="${1:-../shared/data/tafeng}"
if [[ ! -f "$data/tafeng_history.json" || ! -f "$data/tafeng_future.json" ]]; then
  echo "error: $data does not hold tafeng_history.json and tafeng_future.json (the Ta-Feng split of the" >&2
  echo "       'Next Basket Recommendation Reality Check' repository; see ../shared/data/README.md)" >&2
  exit 2
fi
venv="${BORDERLESS_RECS_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/borderless/venv-recs}"
if [[ ! -x "$venv/bin/python" ]] || ! "$venv/bin/python" -c "import implicit" 2>/dev/null; then
  echo "installing implicit into $venv …" >&2
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --upgrade pip >&2
  "$venv/bin/pip" install --quiet implicit >&2
fi
exec cargo run --release --quiet -- recs eval --history "$data/tafeng_history.json" --future "$data/tafeng_future.json" --implicit-python "$venv/bin/python"
