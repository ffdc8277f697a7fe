#!/usr/bin/env python3
"""Turns two more public product-search relevance sets into the judgement CSV that `borderless search eval
--judgements` reads (Home Depot's shape: product_uid, product_title, search_term, relevance on a 1-to-N scale;
a row with an empty search_term adds a product nobody judged, so "all products" is the whole catalog).

  * CrowdFlower "Search Results Relevance" (Kaggle, 2015): 261 shopper queries, 10,158 graded judgements
    (median relevance 1-4) of English product titles. Its train.csv is the union of the ten validation folds
    of github.com/thomasjungblut/crowdflower (ValidationFolds/{1..10}-test.csv); Kaggle competition data,
    for research and evaluation. Products are their titles (the set has no product ids).
  * Chorus (github.com/querqy/chorus, Apache-2.0; product data under the Icecat Open Content License):
    135 queries, 3,668 judgements graded 0-3 (katas/Broad_Query_Set_rated.csv) over a 19,406-product
    electronics catalog (data-encoder/ecommerce/vectors/data/{1..4}.json.zip). Grades are shifted to 1-4 so
    that gain = relevance - 1 keeps 0 for "not relevant".

Usage: relevance-sets.py --crowdflower REPO --chorus REPO --out DIR
REPO is a checkout or a bare git directory of the repository (read at HEAD). Writes
DIR/crowdflower/judgements.csv and DIR/chorus-icecat/judgements.csv; never writes into this repository.
"""
import argparse
import csv
import io
import json
import os
import subprocess
import sys
import zipfile


def read_file(repo, path):
    """The bytes of `path` at HEAD of a checkout or of a bare git directory."""
    plain = os.path.join(repo, path)
    if os.path.isfile(plain):
        return open(plain, "rb").read()
    try:
        return subprocess.run(["git", "--git-dir", repo, "show", f"HEAD:{path}"], check=True,
                              capture_output=True).stdout
    except (subprocess.CalledProcessError, FileNotFoundError) as e:
        sys.exit(f"cannot read {path} from {repo}: {e}. Give a clone of the repository named in --help.")


def write(out_dir, name, rows, products_only=()):
    d = os.path.join(out_dir, name)
    os.makedirs(d, exist_ok=True)
    path = os.path.join(d, "judgements.csv")
    tmp = path + ".tmp"
    with open(tmp, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["product_uid", "product_title", "search_term", "relevance"])
        w.writerows(rows)
        w.writerows(products_only)
    os.replace(tmp, path)
    queries = len({r[2] for r in rows})
    print(f"{path}: {queries} queries, {len(rows)} judgements, "
          f"{len({r[0] for r in rows} | {p[0] for p in products_only})} products")


def crowdflower(repo, out_dir):
    rows, seen = [], set()
    for i in range(1, 11):
        text = read_file(repo, f"ValidationFolds/{i}-test.csv").decode("utf-8")
        for r in csv.DictReader(io.StringIO(text)):
            if r["id"] in seen:
                continue
            seen.add(r["id"])
            title = " ".join(r["product_title"].split())
            if not title:
                continue
            rows.append([title, title, r["query"].strip(), int(r["median_relevance"])])
    if len(rows) < 10000:
        sys.exit(f"CrowdFlower: only {len(rows)} judgements read (expected 10,158): is this the right repository?")
    write(out_dir, "crowdflower", rows)


def chorus(repo, out_dir):
    titles = {}
    for i in range(1, 5):
        z = zipfile.ZipFile(io.BytesIO(read_file(repo, f"data-encoder/ecommerce/vectors/data/{i}.json.zip")))
        for name in z.namelist():
            for p in json.loads(z.read(name)):
                t = " ".join(str(p.get("title") or "").split())
                if t:
                    titles[str(p["id"])] = t
    text = read_file(repo, "katas/Broad_Query_Set_rated.csv").decode("utf-8")
    rows, missing = [], 0
    for r in csv.DictReader(io.StringIO(text)):
        t = titles.get(r["docid"].strip())
        if t is None:
            missing += 1
            continue
        rows.append([r["docid"].strip(), t, r["query"].strip(), int(r["rating"]) + 1])
    if missing:
        print(f"Chorus: {missing} judgements name a product without a title (left out)")
    judged = {r[0] for r in rows}
    rest = [[d, t, "", ""] for d, t in titles.items() if d not in judged]
    write(out_dir, "chorus-icecat", rows, rest)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--crowdflower", help="checkout or bare git dir of thomasjungblut/crowdflower")
    ap.add_argument("--chorus", help="checkout or bare git dir of querqy/chorus")
    ap.add_argument("--out", required=True, help="output directory (outside this repository)")
    a = ap.parse_args()
    if not a.crowdflower and not a.chorus:
        ap.error("give --crowdflower, --chorus or both")
    if a.crowdflower:
        crowdflower(a.crowdflower, a.out)
    if a.chorus:
        chorus(a.chorus, a.out)


if __name__ == "__main__":
    main()
