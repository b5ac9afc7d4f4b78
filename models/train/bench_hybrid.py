#!/usr/bin/python3
"""Hybrid retrieval's choices, made on the validation split (the test split is never used for a choice).

  bench_hybrid.py prepare --work DIR            the validation split as catalog.csv + images.zip
  bench_hybrid.py lists --work DIR --url URL    imports it into the (empty) service, then saves each item's and each
                                                text query's vector list and lexical list (k=100, with their scores)
  bench_hybrid.py texts --work DIR --url URL    (test split) imports it and asks the text queries in each mode with the
                                                service's defaults: the text-query table of bench quality alone
  bench_hybrid.py tune --work DIR               every variant's validation figures: the item's lexical query and
                                                scoring (the service's own list, or whole-text BM25 / TF-IDF computed
                                                here over the same words), RRF or a convex combination, lexicalWeight

The fusion here mirrors src/Similarity.Api/Similar/HybridFusion.cs (50 candidates from each list, as the service takes
for k=10), so a choice made here is the one the service then makes; the test split's figures come from the service.
"""
import argparse
import collections
import json
import math
import os
import re
import unicodedata
import urllib.parse
import zipfile

import numpy as np

import bench_quality as bq
import data
import metrics

POOL = 50  # candidates each list brings for k=10: HybridSearch.PoolFor
WEIGHTS = (0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0)
FIELD_WEIGHTS = {"A": 1.0, "B": 0.4, "C": 0.2, "D": 0.1}  # ts_rank's defaults, {D, C, B, A} = {0.1, 0.2, 0.4, 1.0}


SPLIT = "validation"


def split_drawings():
    return [d for d in data.load_catalog() if d.split == SPLIT]


def prepare(work):
    os.makedirs(work, exist_ok=True)
    rows = []
    with zipfile.ZipFile(os.path.join(work, "images.zip"), "w", zipfile.ZIP_STORED) as z:
        for d in split_drawings():
            z.write(os.path.join(data.OPENCLIPART, "png", d.path + ".png"), d.sku + ".png")
            rows.append([d.sku, d.title, d.catalog_description, d.sku + ".png"])
    bq.write_catalog(os.path.join(work, "catalog.csv"), rows)
    print(f"{work}: {len(rows)} {SPLIT} drawings")


def scored(answer, field):
    return [(r["sku"], r[field] if r.get(field) is not None else r["score"]) for r in answer["results"]]


def lists(work, url):
    drawings = split_drawings()
    bq.import_catalog(url, os.path.join(work, "catalog.csv"), os.path.join(work, "images.zip"))
    out = {"items": {}, "texts": {}}
    for d in drawings:
        out["items"][d.sku] = {
            "vector": scored(bq.request(f"{url}/similar/{d.sku}?k=100&mode=vector"), "score"),
            "lexical": scored(bq.request(f"{url}/similar/{d.sku}?k=100&mode=lexical"), "lexicalScore"),
        }
    for q in bq.text_queries(drawings):
        base = f"{url}/search?k=100&exclude={q['sku']}&q={urllib.parse.quote(q['q'])}"
        out["texts"][q["id"]] = {"vector": scored(bq.request(base + "&mode=vector"), "score"),
                                 "lexical": scored(bq.request(base + "&mode=lexical"), "lexicalScore")}
    json.dump(out, open(os.path.join(work, "lists.json"), "w"))
    print(f"lists of {len(out['items'])} items and {len(out['texts'])} text queries")


def texts(work, url):
    """The text queries of bench quality on this split, each mode at the service's defaults; its table."""
    drawings = split_drawings()
    bq.import_catalog(url, os.path.join(work, "catalog.csv"), os.path.join(work, "images.zip"))
    answers = {mode: {q["id"]: [r["sku"] for r in bq.request(
        f"{url}/search?k=10&mode={mode}&exclude={q['sku']}&q={urllib.parse.quote(q['q'])}")["results"]] for q in bq.text_queries(drawings)}
        for mode in bq.TEXT_MODES}
    catalog = data.load_catalog()
    by_sku = {d.sku: d for d in drawings}
    evaluated = metrics.evaluated_categories(drawings, data.boilerplate_categories(catalog))
    recall = {}
    for mode in ("vector", "hybrid"):  # text → image, as bench quality asks it
        hits = []
        for d in drawings:
            body, content_type = bq.multipart({"text": d.text}, {})
            answer = bq.request(f"{url}/search?k=10&imageWeight=1&textWeight=0&mode={mode}", "POST", body, {"Content-Type": content_type})
            hits.append(float(d.sku in [r["sku"] for r in answer["results"]]))
        recall[mode] = bq.interval({i: h for i, h in enumerate(hits)})
    text = "\n".join(bq.text_query_table(answers, drawings, by_sku, evaluated)
                     + ["", f"Text → image R@10 (all {len(drawings)}): vector {recall['vector']}, hybrid {recall['hybrid']}."])
    open(os.path.join(work, "texts.md"), "w").write(text + "\n")
    print(text)


# ---------------------------------------------------------------- lexical variants for an item's query


def words(text):
    """PostgreSQL's 'simple' configuration after unaccent, near enough: lower-cased runs of letters and digits."""
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    return re.findall(r"[a-z0-9]+", text)


def documents(drawings):
    """Each item's words with their field weight (title A, description C: the bench imports no brand or category)."""
    return {d.sku: [(w, "A") for w in words(d.title)] + [(w, "C") for w in words(d.catalog_description)] for d in drawings}


def bm25_lists(drawings, query_weight, k1=1.2, b=0.75, fields=FIELD_WEIGHTS):
    docs = documents(drawings)
    n = len(docs)
    tf = {s: collections.Counter() for s in docs}
    for s, ws in docs.items():
        for w, f in ws:
            tf[s][w] += fields[f]
    df = collections.Counter(w for s in docs for w in set(w for w, _ in docs[s]))
    idf = {w: math.log(1 + (n - c + 0.5) / (c + 0.5)) for w, c in df.items()}
    length = {s: sum(tf[s].values()) for s in docs}
    average = sum(length.values()) / n
    postings = collections.defaultdict(list)
    for s in docs:
        for w in tf[s]:
            postings[w].append(s)
    result = {}
    for s in docs:
        score = collections.Counter()
        for w, q in tf[s].items():
            weight = idf[w] * (q if query_weight == "tf" else 1) * (idf[w] if query_weight == "idf" else 1)
            for o in postings[w]:
                if o != s:
                    t = tf[o][w]
                    score[o] += weight * t * (k1 + 1) / (t + k1 * (1 - b + b * length[o] / average))
        result[s] = sorted(score.items(), key=lambda x: (-x[1], x[0]))[:100]
    return result


def tfidf_lists(drawings):
    vectors = metrics.tfidf_vectors([d.text for d in drawings])
    similarity = vectors @ vectors.T
    skus = [d.sku for d in drawings]
    result = {}
    for i, s in enumerate(skus):
        order = [j for j in np.lexsort((np.array(skus), -similarity[i])) if j != i and similarity[i, j] > 0][:100]
        result[s] = [(skus[j], float(similarity[i, j])) for j in order]
    return result


# ---------------------------------------------------------------- fusion (HybridFusion's mirror)


def fuse(vector, lexical, method, weight):
    v, l = vector[:POOL], lexical[:POOL]
    if method == "rrf":
        vr = {s: i + 1 for i, (s, _) in enumerate(v)}
        lr = {s: i + 1 for i, (s, _) in enumerate(l)}
        score = {s: (1 - weight) / (60 + vr[s]) if s in vr else 0 for s in set(vr) | set(lr)}
        for s in lr:
            score[s] += weight / (60 + lr[s])
    else:
        # Every candidate of either list has both scores in the service (its SQL scores the union); here a score beyond a
        # list's first 100 is taken as that list's last.
        vs, ls = dict(vector), dict(lexical)
        floor_v, floor_l = (vector[-1][1] if vector else 0), 0.0
        union = {s for s, _ in v} | {s for s, _ in l}
        def normalised(values):
            lo, hi = min(values.values()), max(values.values())
            return {s: (x - lo) / (hi - lo) if hi > lo else 0.0 for s, x in values.items()}
        nv = normalised({s: vs.get(s, floor_v) for s in union}) if union else {}
        nl = normalised({s: ls.get(s, floor_l) for s in union}) if union else {}
        score = {s: (1 - weight) * nv[s] + weight * nl[s] for s in union}
    return [s for s, _ in sorted(score.items(), key=lambda x: (-x[1], x[0]))][:metrics.K]


# ---------------------------------------------------------------- tune


def tune(work):
    got = json.load(open(os.path.join(work, "lists.json")))
    catalog = data.load_catalog()
    drawings = split_drawings()
    by_sku = {d.sku: d for d in drawings}
    boilerplate = data.boilerplate_categories(catalog)
    evaluated = metrics.evaluated_categories(drawings, boilerplate)
    keywords = {d.sku: data.keyword_words(d) for d in drawings}

    def p10(ranked):
        values = {s: metrics.precision_at_k([by_sku[r].category for r in ranked[s]], {by_sku[s].category})
                  for s in ranked if by_sku[s].category in evaluated}
        return metrics.macro(values, {s: by_sku[s].category for s in values})

    def ndcg(ranked):
        values = []
        for s in ranked:
            if by_sku[s].category not in evaluated or not keywords[s]:
                continue
            ideal = [len(keywords[s] & keywords[o]) for o in by_sku if o != s]
            value = metrics.ndcg_at_k([len(keywords[s] & keywords[r]) for r in ranked[s]], ideal)
            if value is not None:
                values.append(value)
        return float(np.mean(values))

    lines = ["| item query: lexical list | fusion | lexicalWeight | category P@10 (macro) | keyword nDCG@10 |", "|---|---|---:|---:|---:|"]
    variants = {"service (title terms, ts_rank)": {s: x["lexical"] for s, x in got["items"].items()},
                "whole text, BM25": bm25_lists(drawings, "one"),
                "whole text, BM25, query terms weighted by idf": bm25_lists(drawings, "idf"),
                "whole text, BM25, query terms weighted by tf": bm25_lists(drawings, "tf"),
                "whole text, TF-IDF cosine": tfidf_lists(drawings)}
    vectors = {s: x["vector"] for s, x in got["items"].items()}
    lines.append(f"| (none: vector only) | | | {p10({s: [r for r, _ in v[:10]] for s, v in vectors.items()}):.3f} | "
                 f"{ndcg({s: [r for r, _ in v[:10]] for s, v in vectors.items()}):.3f} |")
    for name, lexical in variants.items():
        for method in ("rrf", "convex"):
            for w in WEIGHTS:
                ranked = {s: fuse(vectors[s], lexical.get(s, []), method, w) for s in vectors}
                lines.append(f"| {name} | {method} | {w} | {p10(ranked):.3f} | {ndcg(ranked):.3f} |")

    queries = [q for q in bq.text_queries(drawings) if by_sku[q["sku"]].category in evaluated]
    lines += ["", "| text queries: fusion | lexicalWeight | P@10 (macro) | P@10 misspelled | MRR |", "|---|---:|---:|---:|---:|"]
    for method in ("rrf", "convex"):
        for w in WEIGHTS:
            cells = []
            for typo in (False, True):
                values, rr = {}, {}
                for q in queries:
                    if q["typo"] != typo:
                        continue
                    x = got["texts"][q["id"]]
                    ranked = [by_sku[r].category for r in fuse(x["vector"], x["lexical"], method, w) if r in by_sku]
                    folder = by_sku[q["sku"]].category
                    values[q["id"]] = metrics.precision_at_k(ranked, {folder})
                    rr[q["id"]] = next((1 / (i + 1) for i, c in enumerate(ranked[:metrics.K]) if c == folder), 0.0)
                category_of = {q["id"]: by_sku[q["sku"]].category for q in queries}
                cells.append(metrics.macro(values, category_of))
                if not typo:
                    mrr = metrics.macro(rr, category_of)
            lines.append(f"| {method} | {w} | {cells[0]:.3f} | {cells[1]:.3f} | {mrr:.3f} |")
    text = "\n".join(lines)
    open(os.path.join(work, "tune.md"), "w").write(text + "\n")
    print(text)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("step", choices=["prepare", "lists", "texts", "tune"])
    parser.add_argument("--work", required=True)
    parser.add_argument("--url")
    parser.add_argument("--split", default="validation", choices=["validation", "test"])
    args = parser.parse_args()
    global SPLIT
    SPLIT = args.split
    if args.step in ("lists", "tune") and SPLIT != "validation":
        parser.error("choices are made on the validation split only")
    {"prepare": lambda: prepare(args.work), "lists": lambda: lists(args.work, args.url), "texts": lambda: texts(args.work, args.url),
     "tune": lambda: tune(args.work)}[args.step]()


if __name__ == "__main__":
    main()
