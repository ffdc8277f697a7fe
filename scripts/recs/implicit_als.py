#!/usr/bin/env python3
"""Implicit-ALS baseline for next-basket recommendation (Ta-Feng format).

Wraps the PyPI library ``implicit`` (CPU AlternatingLeastSquares) so that a
separate recommender can be compared against it on exactly the same split.

Input files (JSON) map ``customer_id -> [[-1], basket, basket, ..., [-1]]``;
baskets are in time order, item ids are ints, and the ``[-1]`` sentinels are
ignored.  The history file holds the training baskets, the future file holds
exactly one basket per customer: the next basket to predict.

Protocol
--------
1. Tuning never reads the future baskets.  A validation split is carved out of
   the history: for every customer with >= 2 real history baskets, the LAST
   history basket is the validation target and the model is trained on the
   remaining baskets (customers with one basket keep it for training only).
2. A small two-stage grid (15 iterations each) is fitted on that split:
   stage 1 = weighting {linear, bm25} x alpha {1, 5, 20} x regularization
   {0.01, 0.1} at 64 factors; stage 2 = the stage-1 winner at 32 and 128
   factors (pruned from the full product to stay within ~2 min on 2 cores).
   Each fit is scored with and without filtering of already-bought items.
   The configuration with the best validation Recall@20 wins (NDCG@20 is
   reported as well).
3. The best configuration is refitted ONCE on the full history; only that
   ``model.fit`` call is timed (``train_s``).
4. Every customer of the future file gets top-k items; customers unknown to
   the history get the global popularity ranking.

Interaction matrix: users x items, count = number of baskets of the user that
contain the item.  Confidence weighting ``linear``: C = 1 + alpha * count;
``bm25``: C = 1 + alpha * bm25(count) (implicit.nearest_neighbours.bm25_weight,
item idf, per-user length normalisation).  implicit uses the matrix values
directly as confidences, so the model's own ``alpha`` stays at 1.

Metrics (per customer, then averaged over customers), truth = set of items in
the target basket, rec = ranked recommendation list:
  Recall@k = |top-k(rec) ∩ truth| / |truth|
  NDCG@k   = DCG / IDCG with binary gains,
             DCG  = sum_{i<k, rec_i in truth} 1 / log2(i + 2)
             IDCG = sum_{i<min(k, |truth|)} 1 / log2(i + 2)

Output (JSON lines): a header line
  {"model": "implicit_als", "train_s": ..., "params": {...},
   "validation": {"recall@20": ..., "ndcg@20": ...}, "tuning_s": ...,
   "implicit_version": "..."}
followed by one line per future customer: {"user": "<id>", "items": [...]}
with original dataset item ids.
"""

import os

# Must happen before numpy is imported: implicit runs its own threads and
# warns when OpenBLAS is multi-threaded as well.
os.environ["OPENBLAS_NUM_THREADS"] = "1"
os.environ.setdefault("MKL_NUM_THREADS", "1")

import argparse  # noqa: E402
import itertools  # noqa: E402
import json  # noqa: E402
import math  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402

try:
    import numpy as np
    import scipy.sparse as sp
except ImportError as _exc:  # implicit depends on both
    sys.exit(f"error: {_exc}; implicit and its dependencies are missing, "
             "install it with: pip install implicit")

SENTINEL = -1
VAL_K = 20
BATCH = 2048


class InputError(Exception):
    """Raised when an input file is missing or malformed."""


def log(msg):
    print(f"[implicit_als] {msg}", file=sys.stderr, flush=True)


def import_implicit():
    """Return (AlternatingLeastSquares, bm25_weight, version) or exit."""
    try:
        import implicit
        from implicit.cpu.als import AlternatingLeastSquares
        from implicit.nearest_neighbours import bm25_weight
    except ImportError as exc:
        sys.exit(f"error: cannot import 'implicit' ({exc}); "
                 "install it with: pip install implicit")
    return AlternatingLeastSquares, bm25_weight, implicit.__version__


# ----------------------------------------------------------------- data ----

def load_baskets(path):
    """Load {customer: [[item, ...], ...]} with sentinel baskets dropped."""
    if not os.path.isfile(path):
        raise InputError(f"file not found: {path}")
    try:
        with open(path, encoding="utf-8") as fh:
            raw = json.load(fh)
    except (OSError, ValueError) as exc:
        raise InputError(f"cannot parse {path}: {exc}") from exc
    if not isinstance(raw, dict) or not raw:
        raise InputError(f"{path}: expected a non-empty JSON object")
    out = {}
    for user, baskets in raw.items():
        if not isinstance(baskets, list):
            raise InputError(f"{path}: customer {user}: baskets must be a list")
        real = []
        for basket in baskets:
            if not isinstance(basket, list) or not all(
                    isinstance(i, int) and not isinstance(i, bool) for i in basket):
                raise InputError(f"{path}: customer {user}: basket is not a list of ints")
            if basket != [SENTINEL]:
                if SENTINEL in basket:
                    raise InputError(f"{path}: customer {user}: stray -1 inside a basket")
                real.append(basket)
        out[str(user)] = real
    return out


def validation_split(history):
    """Return (train baskets, {user: target item set}) from the history."""
    train, targets = {}, {}
    for user, baskets in history.items():
        if len(baskets) >= 2:
            train[user] = baskets[:-1]
            targets[user] = set(baskets[-1])
        else:
            train[user] = baskets
    return train, targets


def build_index(history):
    """Stable user/item index over the full history."""
    users = sorted(history, key=lambda u: (len(u), u))
    items = sorted({i for bs in history.values() for b in bs for i in b})
    return ({u: n for n, u in enumerate(users)},
            {i: n for n, i in enumerate(items)}, np.asarray(items, dtype=np.int64))


def count_matrix(baskets, user_idx, item_idx):
    """CSR users x items; value = number of baskets containing the item."""
    rows, cols = [], []
    for user, bs in baskets.items():
        u = user_idx[user]
        for basket in bs:
            for item in set(basket):
                rows.append(u)
                cols.append(item_idx[item])
    data = np.ones(len(rows), dtype=np.float32)
    shape = (len(user_idx), len(item_idx))
    mat = sp.csr_matrix((data, (rows, cols)), shape=shape, dtype=np.float32)
    mat.sum_duplicates()
    return mat


def confidence(counts, weighting, alpha, bm25_weight):
    """C = 1 + alpha * w(count) on the non-zeros, w = identity or bm25."""
    if weighting == "bm25":
        weighted = sp.csr_matrix(bm25_weight(counts, K1=100, B=0.8), dtype=np.float32)
    else:
        weighted = counts.copy()
    weighted.sort_indices()
    weighted.data = (1.0 + alpha * weighted.data).astype(np.float32)
    return weighted


def popularity(counts, k):
    """Matrix indices of the k most popular items (by basket count)."""
    pop = np.asarray(counts.sum(axis=0)).ravel()
    return np.argsort(-pop, kind="stable")[:k]


# -------------------------------------------------------------- metrics ----

def recall_ndcg(ranked, truth, k):
    """Recall@k and binary-gain NDCG@k for one customer."""
    top = ranked[:k]
    hits = [i for i, item in enumerate(top) if item in truth]
    dcg = sum(1.0 / math.log2(i + 2) for i in hits)
    idcg = sum(1.0 / math.log2(i + 2) for i in range(min(k, len(truth))))
    return len(hits) / len(truth), dcg / idcg


def evaluate(recs, targets, k):
    """Mean Recall@k / NDCG@k over targets; recs maps user -> ranked items."""
    rec_sum = ndcg_sum = 0.0
    for user, truth in targets.items():
        r, n = recall_ndcg(recs[user], truth, k)
        rec_sum += r
        ndcg_sum += n
    return rec_sum / len(targets), ndcg_sum / len(targets)


# ---------------------------------------------------------------- model ----

def make_model(als_cls, params, threads, seed):
    return als_cls(factors=params["factors"], regularization=params["regularization"],
                   alpha=1.0, iterations=params["iterations"], use_cg=True,
                   num_threads=threads, random_state=seed)


def recommend_rows(model, user_items, rows, k, filter_liked):
    """Top-k matrix item indices for the given matrix rows, batched."""
    n = min(k, user_items.shape[1])
    out = []
    for start in range(0, len(rows), BATCH):
        batch = np.asarray(rows[start:start + BATCH])
        ids, _ = model.recommend(batch, user_items[batch], N=n,
                                 filter_already_liked_items=filter_liked)
        out.extend(ids)
    return out


def validation_scores(model, user_items, targets, user_idx, items, k):
    """{filter_liked: (recall, ndcg)} for one fitted model."""
    users = list(targets)
    rows = [user_idx[u] for u in users]
    scores = {}
    for filter_liked in (False, True):
        ids = recommend_rows(model, user_items, rows, k, filter_liked)
        recs = {u: items[r[r >= 0]].tolist() for u, r in zip(users, ids)}
        scores[filter_liked] = evaluate(recs, targets, k)
    return scores


FIXED = dict(weighting="linear", alpha=5.0, regularization=0.1, factors=64, iterations=15)


def stage1_points(grid):
    """Stage 1: weighting x alpha x regularization at 64 factors."""
    if grid == "none":
        return [dict(FIXED)]
    combos = itertools.product(["linear", "bm25"], [1.0, 5.0, 20.0], [0.01, 0.1])
    return [dict(FIXED, weighting=w, alpha=a, regularization=r) for w, a, r in combos]


def stage2_points(grid, best_params):
    """Stage 2: the other factor sizes around the stage-1 winner."""
    if grid == "none":
        return []
    base = {k: v for k, v in best_params.items() if k != "filter_already_liked_items"}
    return [dict(base, factors=f) for f in (32, 128)]


def try_point(params, counts, targets, ctx):
    """Fit one grid point; return {filter_liked: (recall, ndcg)}."""
    t0 = time.perf_counter()
    conf = confidence(counts, params["weighting"], params["alpha"], ctx["bm25_weight"])
    model = make_model(ctx["als_cls"], params, ctx["threads"], ctx["seed"])
    model.fit(conf, show_progress=False)
    scores = validation_scores(model, conf, targets, ctx["user_idx"], ctx["items"], VAL_K)
    (r0, _), (r1, _) = scores[False], scores[True]
    log(f"grid {params['weighting']} a={params['alpha']:g} reg={params['regularization']:g} "
        f"f={params['factors']}: R@20 keep={r0:.4f} filter={r1:.4f} "
        f"({time.perf_counter() - t0:.1f}s)")
    return scores


def update_best(best, params, scores):
    for filter_liked, (rec, ndcg) in scores.items():
        if best is None or rec > best["recall"]:
            best = dict(params=dict(params, filter_already_liked_items=filter_liked),
                        recall=rec, ndcg=ndcg)
    return best


def tune(history, grid, ctx):
    """Two-stage grid search on the history-only validation split."""
    train, targets = validation_split(history)
    counts = count_matrix(train, ctx["user_idx"], ctx["item_idx"])
    log(f"validation: {len(targets)} customers, train nnz={counts.nnz}")
    best = None
    for params in stage1_points(grid):
        best = update_best(best, params, try_point(params, counts, targets, ctx))
    for params in stage2_points(grid, best["params"]):
        best = update_best(best, params, try_point(params, counts, targets, ctx))
    return best


# ----------------------------------------------------------------- main ----

def predict_future(model, user_items, future, user_idx, items, pop, k, filter_liked):
    """{user: [original item ids]} for every customer of the future file."""
    known = [u for u in future if u in user_idx]
    ids = recommend_rows(model, user_items, [user_idx[u] for u in known], k, filter_liked)
    recs = {u: items[r[r >= 0]].tolist() for u, r in zip(known, ids)}
    fallback = items[pop].tolist()
    unknown = [u for u in future if u not in user_idx]
    if unknown:
        log(f"{len(unknown)} future customers unknown to history -> popularity")
    for u in unknown:
        recs[u] = fallback
    return recs


def write_output(path, header, future, recs):
    out_dir = os.path.dirname(os.path.abspath(path))
    os.makedirs(out_dir, exist_ok=True)
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(json.dumps(header) + "\n")
        for user in future:
            fh.write(json.dumps({"user": user, "items": recs[user]}) + "\n")


def parse_args(argv=None):
    p = argparse.ArgumentParser(
        description="implicit ALS baseline for next-basket recommendation: tunes on a "
                    "history-only validation split (last history basket), refits on the "
                    "full history and writes top-k predictions for the future customers.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--history", required=True, help="history JSON ({customer: [[-1], basket, ..., [-1]]})")
    p.add_argument("--future", required=True, help="future JSON (one basket per customer; only its keys are used)")
    p.add_argument("--out", required=True, help="output JSON-lines file (header + one line per customer)")
    p.add_argument("--k", type=int, default=20, help="number of items to recommend per customer")
    p.add_argument("--threads", type=int, default=2, help="threads used by implicit")
    p.add_argument("--grid", choices=["small", "none"], default="small",
                   help="'small': 14-fit two-stage grid on the validation split; "
                        "'none': one fixed configuration (still validated)")
    p.add_argument("--seed", type=int, default=7, help="random_state for ALS")
    args = p.parse_args(argv)
    if args.k < 1 or args.threads < 1:
        p.error("--k and --threads must be >= 1")
    return args


def main(argv=None):
    args = parse_args(argv)
    als_cls, bm25_weight, version = import_implicit()
    t_start = time.perf_counter()
    try:
        history = load_baskets(args.history)
        future = load_baskets(args.future)
    except InputError as exc:
        sys.exit(f"error: {exc}")
    user_idx, item_idx, items = build_index(history)
    log(f"implicit {version}: {len(user_idx)} users, {len(items)} items, "
        f"{len(future)} future customers")

    t0 = time.perf_counter()
    ctx = dict(als_cls=als_cls, bm25_weight=bm25_weight, user_idx=user_idx,
               item_idx=item_idx, items=items, threads=args.threads, seed=args.seed)
    best = tune(history, args.grid, ctx)
    tuning_s = time.perf_counter() - t0
    params = best["params"]
    log(f"best {params} val R@20={best['recall']:.4f} NDCG@20={best['ndcg']:.4f} "
        f"(tuning {tuning_s:.1f}s)")

    counts = count_matrix(history, user_idx, item_idx)
    conf = confidence(counts, params["weighting"], params["alpha"], bm25_weight)
    model = make_model(als_cls, params, args.threads, args.seed)
    t0 = time.perf_counter()
    model.fit(conf, show_progress=False)
    train_s = time.perf_counter() - t0
    log(f"final fit on full history: {train_s:.2f}s")

    pop = popularity(counts, args.k)
    recs = predict_future(model, conf, future, user_idx, items, pop, args.k,
                          params["filter_already_liked_items"])
    header = {"model": "implicit_als", "train_s": train_s, "params": params,
              "validation": {"recall@20": best["recall"], "ndcg@20": best["ndcg"]},
              "tuning_s": tuning_s, "implicit_version": version}
    write_output(args.out, header, future, recs)
    log(f"wrote {args.out} ({len(future)} customers) in {time.perf_counter() - t_start:.1f}s total")


if __name__ == "__main__":
    main()
