#!/usr/bin/python3
"""Hybrid retrieval's choices, made on the validation split (the test split is never used for a choice).

  bench_hybrid.py prepare --work DIR            the validation split as catalog.csv + images.zip
  bench_hybrid.py lists --work DIR --url URL    imports it into the (empty) service, then saves each item's and each
                                                text query's vector list and lexical list (k=100, with their scores)
  bench_hybrid.py texts --work DIR --url URL    (test split) imports it and asks the text queries in each mode with the
                                                service's defaults: the text-query table of bench quality alone
  bench_hybrid.py tune --work DIR               every variant's validation figures: the item's lexical query and
                                                scoring (the service's own list, or whole-text BM25 / TF-IDF computed
                                                here over the same words), RRF or a convex combination, lexicalWeight;
                                                then what else was tried for the two folder targets (beyond.md): the
                                                towers mixed, query expansion, words choosing a text query's expansion

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


def lists(work, url, connection):
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
        if not q["typo"]:  # the query's own fused vector, as mode=vector embeds it (for the expansions of beyond())
            body, content_type = bq.multipart({"text": q["q"]}, {})
            out["texts"][q["id"]]["embedded"] = bq.request(f"{url}/embed", "POST", body, {"Content-Type": content_type})["fused"]
    out["vectors"] = stored_vectors(connection)
    json.dump(out, open(os.path.join(work, "lists.json"), "w"))
    print(f"lists of {len(out['items'])} items and {len(out['texts'])} text queries")


def stored_vectors(connection):
    """Each item's stored fused, image and text vectors (the API never returns them): read from the service's database."""
    import tune_data
    with tune_data.connect(connection) as db, db.cursor() as cursor:
        cursor.execute("SELECT sku, embedding::text, image_embedding::text, text_embedding::text FROM items")
        return {sku: {"fused": json.loads(f), "image": json.loads(i), "text": json.loads(t)} for sku, f, i, t in cursor.fetchall()}


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
    variants = {"service (its mode=lexical list: whole text, TF-IDF cosine)": {s: x["lexical"] for s, x in got["items"].items()},
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


# ---------------------------------------------------------------- beyond the weight: the two folder targets


def beyond(work):
    """What else was tried, on the validation split, for the two targets no fusion weight reached (item pages'
    category P@10 above the text tower's; text queries' P@10 above the vectors'): the towers mixed, words mixed in
    by score, average query expansion, second-order similarity, and for text queries Rocchio's pseudo-relevance
    feedback (the query vector moved toward its first results) with those results chosen by the vectors, by the words,
    or by both. Exact cosines over the stored vectors."""
    got = json.load(open(os.path.join(work, "lists.json")))
    drawings = split_drawings()
    skus = [d.sku for d in drawings]
    row = {s: i for i, s in enumerate(skus)}
    by_sku = {d.sku: d for d in drawings}
    evaluated = metrics.evaluated_categories(drawings, data.boilerplate_categories(data.load_catalog()))
    folder = np.array([by_sku[s].category for s in skus])
    towers = {name: unit(np.array([got["vectors"][s][name] for s in skus])) for name in ("fused", "image", "text")}
    similarity = {name: m @ m.T for name, m in towers.items()}
    words_x = metrics.tfidf_vectors([d.text for d in drawings])
    similarity["tfidf"] = words_x @ words_x.T
    asked = [i for i, s in enumerate(skus) if folder[i] in evaluated]

    def item_p10(scores):
        scores = scores.copy()
        np.fill_diagonal(scores, -np.inf)
        top = np.argsort(-scores, axis=1, kind="stable")[:, :metrics.K]
        return metrics.macro({skus[i]: float(np.mean(folder[top[i]] == folder[i])) for i in asked}, {skus[i]: folder[i] for i in asked})

    lines = ["| item pages: ranking (exact cosines) | category P@10 (macro) |", "|---|---:|"]
    for name in ("fused", "text", "image", "tfidf"):
        lines.append(f"| {name} | {item_p10(similarity[name]):.3f} |")
    for a in (0.6, 0.7, 0.8, 0.9):
        lines.append(f"| {a} text + {1 - a:.1f} image | {item_p10(a * similarity['text'] + (1 - a) * similarity['image']):.3f} |")
    for name in ("fused", "text"):
        for b in (0.1, 0.2, 0.3):
            lines.append(f"| {1 - b:.1f} {name} + {b} TF-IDF | {item_p10((1 - b) * similarity[name] + b * similarity['tfidf']):.3f} |")
        for m in (3, 10):
            expanded = average_expansion(towers[name], similarity[name], m)
            lines.append(f"| {name}, average query expansion ({m} neighbours, weights cos³) | {item_p10(expanded @ towers[name].T):.3f} |")
        for m in (5, 10):
            for share in (0.3, 0.5):
                lines.append(f"| {name}, second order ({m} neighbours, share {share}) | {item_p10(second_order(similarity[name], m, share)):.3f} |")

    fused = towers["fused"]
    queries = [q for q in bq.text_queries(drawings) if not q["typo"] and by_sku[q["sku"]].category in evaluated]
    document_words = {d.sku: set(words(d.text)) for d in drawings}

    folder_of = {q["id"]: by_sku[q["sku"]].category for q in queries}

    def vector_page(q):
        return [s for s, _ in got["texts"][q["id"]]["vector"]]

    def hybrid_page(q):
        return fuse(got["texts"][q["id"]]["vector"], got["texts"][q["id"]]["lexical"], "rrf", 0.5)

    def holding_every_word(q):
        asked_words = set(words(q["q"]))
        return [s for s, _ in got["texts"][q["id"]]["lexical"] if asked_words <= document_words.get(s, set())]

    # The lists whose first results the query vector is moved toward, by the name the table gives them.
    seed_lists = {"vector": vector_page, "lexical": lambda q: [s for s, _ in got["texts"][q["id"]]["lexical"]],
                  "lexical, items holding every query word,": holding_every_word, "hybrid (RRF 0.5)": hybrid_page}

    def page_p10(q, ranked):
        return metrics.precision_at_k([by_sku[s].category for s in ranked[:metrics.K]], {folder_of[q["id"]]})

    def text_p10(rank):
        return metrics.macro({q["id"]: page_p10(q, rank(q)) for q in queries}, folder_of)

    def expanded(q, seeds=None, beta=0.0):
        """The query's page by its own vector, moved by beta toward the mean of the seeds' vectors (Rocchio)."""
        vector = np.array(got["texts"][q["id"]]["embedded"])
        vector = vector / np.linalg.norm(vector)
        chosen = [row[s] for s in seeds if s in row] if seeds else []
        if chosen:
            vector = vector + beta * fused[chosen].mean(0)
        scores = fused @ vector
        scores[row[q["sku"]]] = -np.inf
        return [skus[i] for i in np.argsort(-scores, kind="stable")[:metrics.K]]

    lines += ["", "| text queries (correct spellings): the query vector | P@10 (macro) |", "|---|---:|",
              f"| as embedded (mode=vector, exact) | {text_p10(expanded):.3f} |",
              f"| the service's mode=vector list | {text_p10(vector_page):.3f} |",
              f"| the service's hybrid, RRF 0.5 | {text_p10(hybrid_page):.3f} |"]
    for name, seed_list in seed_lists.items():
        for m in (3, 5):
            for beta in (0.5, 1.0):
                p10 = text_p10(lambda q: expanded(q, seed_list(q)[:m], beta))
                lines.append(f"| moved toward the mean of the first {m} of the {name} list, weight {beta} | {p10:.3f} |")
    # An oracle: each query's better page of the two. No rule choosing per query between them (a weight from the words'
    # rarity, from how many items match them…) can do better.
    pages = {q["id"]: (page_p10(q, vector_page(q)), page_p10(q, hybrid_page(q))) for q in queries}
    better = {k: max(v) for k, v in pages.items()}
    wins, losses = sum(h > v for v, h in pages.values()), sum(h < v for v, h in pages.values())
    lines.append(f"| per query, the better page of mode=vector and hybrid RRF 0.5 (an oracle; hybrid better on {wins} of "
                 f"{len(pages)} queries, worse on {losses}) | {metrics.macro(better, folder_of):.3f} |")
    text = "\n".join(lines)
    open(os.path.join(work, "beyond.md"), "w").write(text + "\n")
    print(text)


def unit(m):
    return m / np.maximum(np.linalg.norm(m, axis=1, keepdims=True), 1e-12)


def average_expansion(vectors, similarity, m, power=3):
    """Each item's vector replaced by the weighted mean of itself and its m nearest (weights cos^power): αQE."""
    order = np.argsort(-similarity, axis=1, kind="stable")[:, :m + 1]
    rows = np.arange(len(vectors))[:, None]
    weights = np.clip(similarity[rows, order], 0, None) ** power
    return unit(np.einsum("ij,ijk->ik", weights, vectors[order]))


def second_order(similarity, m, share):
    """(1 − share)·S + share·W·S, W each item's m nearest others weighted by their cosine, rows summing to 1."""
    masked = similarity.copy()
    np.fill_diagonal(masked, -np.inf)
    order = np.argsort(-masked, axis=1, kind="stable")[:, :m]
    rows = np.arange(len(similarity))[:, None]
    w = np.zeros_like(similarity)
    w[rows, order] = np.clip(similarity[rows, order], 0, None)
    w /= np.maximum(w.sum(1, keepdims=True), 1e-12)
    return (1 - share) * similarity + share * (w @ similarity)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("step", choices=["prepare", "lists", "texts", "tune"])
    parser.add_argument("--connection", help="the service's database, Npgsql style (lists reads the stored vectors; "
                        "default: ConnectionStrings__Similarity)")
    parser.add_argument("--work", required=True)
    parser.add_argument("--url")
    parser.add_argument("--split", default="validation", choices=["validation", "test"])
    args = parser.parse_args()
    global SPLIT
    SPLIT = args.split
    if args.step in ("lists", "tune") and SPLIT != "validation":
        parser.error("choices are made on the validation split only")
    {"prepare": lambda: prepare(args.work), "lists": lambda: lists(args.work, args.url, args.connection), "texts": lambda: texts(args.work, args.url),
     "tune": lambda: (tune(args.work), beyond(args.work))}[args.step]()


if __name__ == "__main__":
    main()
