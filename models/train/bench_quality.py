#!/usr/bin/python3
"""Retrieval quality of model sets, measured through the running service's HTTP API only.

Python rather than C#: it shares the training's definition of the split, the texts and the metrics
(data.py, metrics.py), and Pillow makes the near-duplicate variants.

  bench_quality.py prepare --work DIR                        the test split as catalog.csv + images.zip, its
                                                             near-duplicates, and the mean-fusion model set
  bench_quality.py measure --work DIR --set NAME --url URL   imports the test split into the (empty) service, asks
                                                             /similar and /search, then adds the near-duplicates
  bench_quality.py table --work DIR                          the metrics with 95% bootstrap intervals, and TF-IDF
"""
import argparse
import collections
import csv
import hashlib
import io
import json
import os
import shutil
import sys
import time
import random
import re
import urllib.error
import urllib.parse
import urllib.request
import uuid
import zipfile

import numpy as np

import data
import metrics

ADMIN_KEY = "bench-only-admin-key-not-secret"  # the key bench_service_start gives the service
NEAR_DUPLICATE_DRAWINGS = 200  # test drawings that get three variants each
RANKINGS = {  # name → query string of /similar that produces it
    "attention": "",
    "image": "&imageWeight=1&textWeight=0",
    "text": "&imageWeight=0&textWeight=1",
    "concatenation": "&imageWeight=1&textWeight=1",  # the cosine of two concatenated unit vectors is the mean of the two cosines
    "lexical": "&mode=lexical",  # the item's whole text against the lexical index, by TF-IDF cosine
    "hybrid": "&mode=hybrid",  # that and the fused vector, fused as the service's item-page defaults say
    "hybrid_image": "&mode=hybrid&imageWeight=1&textWeight=0",
    "hybrid_text": "&mode=hybrid&imageWeight=0&textWeight=1",
}
# Rankings measured for the trained set only (the other sets answer the vector rankings).
LEXICAL_RANKINGS = ("lexical", "hybrid", "hybrid_image", "hybrid_text")
TEXT_MODES = ("vector", "lexical", "hybrid")  # GET /search?mode=… for the text queries
TEXT_QUERY_SEED = 20261206  # which keywords make a query and where each misspelling falls


# ---------------------------------------------------------------- prepare


def test_split():
    return [d for d in data.load_catalog() if d.split == "test"]


def write_catalog(path, rows):
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["sku", "title", "description", "image"])
        writer.writerows(rows)


def variants(drawing):
    """A crop (85% of each side, off-centre), a half-size copy and a JPEG re-encode (quality 60, on white)."""
    from PIL import Image

    with Image.open(os.path.join(data.OPENCLIPART, "png", drawing.path + ".png")) as image:
        image.load()
        w, h = image.size
        crop = image.crop((round(0.05 * w), round(0.10 * h), round(0.90 * w), round(0.95 * h)))
        half = image.resize((max(1, w // 2), max(1, h // 2)), Image.BILINEAR)
        jpeg = data.flatten_on_white(image)
    out = {}
    for name, img, fmt in (("crop", crop, "PNG"), ("half", half, "PNG"), ("jpeg", jpeg, "JPEG")):
        buffer = io.BytesIO()
        img.save(buffer, fmt, **({"quality": 60} if fmt == "JPEG" else {}))
        out[name] = (buffer.getvalue(), "jpg" if fmt == "JPEG" else "png")
    return out


def prepare(work, clipart):
    os.makedirs(work, exist_ok=True)
    drawings = test_split()
    rows = []
    with zipfile.ZipFile(os.path.join(work, "images.zip"), "w", zipfile.ZIP_STORED) as z:
        for d in drawings:
            z.write(os.path.join(data.OPENCLIPART, "png", d.path + ".png"), d.sku + ".png")
            rows.append([d.sku, d.title, d.catalog_description, d.sku + ".png"])
    write_catalog(os.path.join(work, "catalog.csv"), rows)

    # Near-duplicates: the same item listed again with a cropped, shrunk or re-encoded image (same title and text).
    chosen = sorted(drawings, key=lambda d: hashlib.sha256(("near-duplicate " + d.path).encode()).hexdigest())[:NEAR_DUPLICATE_DRAWINGS]
    rows = []
    with zipfile.ZipFile(os.path.join(work, "near-duplicates.zip"), "w", zipfile.ZIP_STORED) as z:
        for d in chosen:
            for name, (payload, ext) in variants(d).items():
                z.writestr(f"{d.sku}-{name}.{ext}", payload)
                rows.append([f"{d.sku}-{name}", d.title, d.catalog_description, f"{d.sku}-{name}.{ext}"])
    write_catalog(os.path.join(work, "near-duplicates.csv"), rows)

    # Mean fusion: the trained set with its attention vector zeroed, so both modalities always weigh 0.5.
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
    from generate import sha256, write_safetensors
    from reference import read_safetensors

    mean = os.path.join(work, "sets", "mean")
    shutil.rmtree(mean, ignore_errors=True)
    shutil.copytree(clipart, mean)
    fusion = {k: v.astype(np.float32) for k, v in read_safetensors(os.path.join(mean, "fusion.safetensors")).items()}
    fusion["attention_vector"][:] = 0
    write_safetensors(os.path.join(mean, "fusion.safetensors"), fusion, {"format": "similarity-attention-fusion", "version": "1"})
    manifest = json.load(open(os.path.join(mean, "manifest.json")))
    manifest["name"] += "-mean-fusion"
    manifest["fusion"]["sha256"] = sha256(os.path.join(mean, "fusion.safetensors"))
    json.dump(manifest, open(os.path.join(mean, "manifest.json"), "w"), indent=2)
    print(f"{work}: {len(drawings)} test drawings, {len(rows)} near-duplicates, mean-fusion set")


# ---------------------------------------------------------------- text queries


def misspell(text, rng):
    """One edit (a letter dropped, doubled or replaced) in one word of 4 letters or more; None when none is that long."""
    words = [m for m in re.finditer(r"[a-z]{4,}", text.lower())]
    if not words:
        return None
    word = rng.choice(words)
    at = word.start() + rng.randrange(1, len(word.group()))  # never the first letter, as a shopper rarely mistypes it
    edit = rng.choice(("drop", "double", "replace"))
    letter = rng.choice([c for c in "abcdefghijklmnopqrstuvwxyz" if c != text[at].lower()])
    edited = text[:at] + ("" if edit == "drop" else text[at] * 2 if edit == "double" else letter) + text[at + 1:]
    return edited


def text_queries(drawings):
    """Each test drawing's title and one or two of its keywords as queries, and a misspelled copy of each (seeded);
    relevant: the drawing's folder, the drawing itself excluded."""
    rng = random.Random(TEXT_QUERY_SEED)
    queries = []
    for d in drawings:
        keywords = sorted(data.keyword_words(d))
        texts = [("title", d.title)]
        if keywords:
            texts.append(("keywords", " ".join(rng.sample(keywords, min(len(keywords), rng.choice((1, 2)))))))
        for kind, text in texts:
            if not text.strip():
                continue
            queries.append({"id": f"{d.sku}/{kind}", "sku": d.sku, "kind": kind, "typo": False, "q": text})
            wrong = misspell(text, rng)
            if wrong is not None:
                queries.append({"id": f"{d.sku}/{kind}/typo", "sku": d.sku, "kind": kind, "typo": True, "q": wrong})
    return queries


# ---------------------------------------------------------------- measure


def request(url, method="GET", body=None, headers=None):
    req = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    for attempt in range(5):
        try:
            with urllib.request.urlopen(req, timeout=120) as response:
                return json.load(response)
        except urllib.error.HTTPError as error:
            if error.code < 500 or attempt == 4:
                raise RuntimeError(f"{method} {url}: {error.code} {error.read()[:500]!r}") from error
        time.sleep(1)


def multipart(fields, files):
    boundary = uuid.uuid4().hex
    parts = []
    for name, value in fields.items():
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode())
    for name, (filename, payload) in files.items():
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
                     f'Content-Type: application/octet-stream\r\n\r\n'.encode() + payload + b"\r\n")
    return b"".join(parts) + f"--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


def import_catalog(url, catalog, images):
    body, content_type = multipart({}, {"catalog": (os.path.basename(catalog), open(catalog, "rb").read()),
                                        "images": (os.path.basename(images), open(images, "rb").read())})
    job = request(f"{url}/imports", "POST", body, {"Content-Type": content_type, "X-Api-Key": ADMIN_KEY})
    while job["status"] not in ("succeeded", "succeeded_with_errors", "failed", "cancelled"):
        time.sleep(1)
        job = request(f"{url}/imports/{job['id']}", headers={"X-Api-Key": ADMIN_KEY})
    if job["status"] != "succeeded":
        raise RuntimeError(f"import of {catalog} ended {job['status']}: {json.dumps(job)[:1000]}")
    return job


def similar(url, sku, query):
    return [r["sku"] for r in request(f"{url}/similar/{sku}?k=10{query}")["results"]]


def measure(work, name, url):
    drawings = test_split()
    started = time.time()
    import_catalog(url, os.path.join(work, "catalog.csv"), os.path.join(work, "images.zip"))
    result = {"set": name, "import_seconds": round(time.time() - started, 1), "rankings": {}, "text_to_image": {}, "near_duplicates": {}}
    live = [m for m in request(f"{url}/models", headers={"X-Api-Key": ADMIN_KEY})["models"] if m["status"] == "live"]
    result["model_set"] = live[0]["name"] if live else name
    rankings = {r: q for r, q in RANKINGS.items() if name == "clipart" or r not in LEXICAL_RANKINGS}
    for ranking, query in rankings.items():
        result["rankings"][ranking] = {d.sku: similar(url, d.sku, query) for d in drawings}
    # Text → image: a drawing's text as the query, items ranked by how well their image matches it (mode=vector: as
    # before hybrid search; hybrid: the words of the text too).
    for mode in ("vector", "hybrid") if name == "clipart" else ("vector",):
        key = "text_to_image" if mode == "vector" else "text_to_image_hybrid"
        for d in drawings:
            body, content_type = multipart({"text": d.text}, {})
            answer = request(f"{url}/search?k=10&imageWeight=1&textWeight=0&mode={mode}", "POST", body, {"Content-Type": content_type})
            result.setdefault(key, {})[d.sku] = [r["sku"] for r in answer["results"]]
    if name == "clipart":
        result["text_queries"] = {mode: {q["id"]: [r["sku"] for r in request(
            f"{url}/search?k=10&mode={mode}&exclude={q['sku']}&q={urllib.parse.quote(q['q'])}")["results"]] for q in text_queries(drawings)}
            for mode in TEXT_MODES}
    result["image_weights"] = {d.sku: request(f"{url}/items/{d.sku}", headers={"X-Api-Key": ADMIN_KEY})["attention"]["image"] for d in drawings}

    import_catalog(url, os.path.join(work, "near-duplicates.csv"), os.path.join(work, "near-duplicates.zip"))
    names = ("crop", "half", "jpeg")
    for sku in sorted({row["sku"].rsplit("-", 1)[0] for row in csv.DictReader(open(os.path.join(work, "near-duplicates.csv")))}):
        for variant in names:
            siblings = ",".join(f"{sku}-{v}" for v in names if v != variant)
            for ranking, query in RANKINGS.items():
                top = request(f"{url}/similar/{sku}-{variant}?k=1&exclude={siblings}{query}")["results"]
                result["near_duplicates"].setdefault(ranking, {})[f"{sku}-{variant}"] = top[0]["sku"] if top else None
    json.dump(result, open(os.path.join(work, f"{name}.json"), "w"))
    print(f"{name}: measured in {time.time() - started:.0f}s")


# ---------------------------------------------------------------- table


def tfidf_rankings(drawings):
    """Plain TF-IDF cosine over the same texts the service embeds (lower-cased words, smoothed idf)."""
    vectors = metrics.tfidf_vectors([d.text for d in drawings])
    similarity = vectors @ vectors.T
    np.fill_diagonal(similarity, -np.inf)
    # Ties (many texts share no word) are broken by SKU, as the service breaks them.
    skus = np.array([d.sku for d in drawings])
    result = {}
    for i, d in enumerate(drawings):
        order = np.lexsort((skus, -similarity[i]))[:metrics.K]
        result[d.sku] = list(skus[order])
    return result


def interval(values, category_of=None):
    if not values:
        return "n/a"
    estimate, low, high = metrics.bootstrap(values, category_of)
    return f"{estimate:.3f} [{low:.3f}, {high:.3f}]"


def table(work):
    catalog = data.load_catalog()
    drawings = [d for d in catalog if d.split == "test"]
    by_sku = {d.sku: d for d in drawings}
    boilerplate = data.boilerplate_categories(catalog)
    evaluated = metrics.evaluated_categories(drawings, boilerplate)
    counts = collections.Counter(d.category for d in drawings)
    apart = sorted(c for c in boilerplate if counts[c] >= metrics.MIN_CATEGORY_SIZE and c != "shapes/stars")
    keywords = {d.sku: data.keyword_words(d) for d in drawings}
    png_hash = {d.sku: hashlib.sha256(open(os.path.join(data.OPENCLIPART, "png", d.path + ".png"), "rb").read()).hexdigest() for d in drawings}

    def category_values(ranked, categories):
        return {s: metrics.precision_at_k([by_sku[r].category for r in ranked[s] if r in by_sku], {by_sku[s].category})
                for s in ranked if by_sku[s].category in categories}

    def ndcg_values(ranked):
        values = {}
        for s in ranked:
            if by_sku[s].category not in evaluated or not keywords[s]:
                continue
            gains = [len(keywords[s] & keywords[r]) for r in ranked[s] if r in by_sku]
            ideal = [len(keywords[s] & keywords[o]) for o in by_sku if o != s]
            value = metrics.ndcg_at_k(gains, ideal)
            if value is not None:
                values[s] = value
        return values

    rows = []

    def add(label, ranked, near=None, text_to_image=None):
        category_of = {s: by_sku[s].category for s in ranked}
        p10 = category_values(ranked, evaluated)
        stars = category_values(ranked, {"shapes/stars"})
        other = category_values(ranked, set(apart))
        near_values = {}
        for variant, top in (near or {}).items():
            original = variant.rsplit("-", 1)[0]
            near_values[variant] = float(top is not None and (top == original or png_hash.get(top) == png_hash[original]))
        recall = {}
        for s, ranked_skus in (text_to_image or {}).items():
            recall[s] = float(s in ranked_skus)
        recall_subject = {s: v for s, v in recall.items() if by_sku[s].category not in boilerplate}
        # shapes/stars holds star polygons that differ by a point or a step: at 64 px most are the same picture.
        near_not_stars = {v: x for v, x in near_values.items() if by_sku[v.rsplit("-", 1)[0]].category != "shapes/stars"}
        rows.append([label, interval(p10, category_of), interval(stars), interval(other, category_of), interval(ndcg_values(ranked)),
                     interval(near_values), interval(near_not_stars), interval(recall), interval(recall_subject)])

    sets = {name: json.load(open(os.path.join(work, f"{name}.json"))) for name in ("clipart", "mean", "untrained", "given") if os.path.exists(os.path.join(work, f"{name}.json"))}
    clipart = sets["clipart"]
    add("**attention fusion** (default ranking)", clipart["rankings"]["attention"], clipart["near_duplicates"]["attention"])
    if "given" in sets:  # bench quality --models DIR: that set's default ranking, on the same split
        g = sets["given"]
        add(f"attention fusion of --models ({g.get('model_set', 'given')})", g["rankings"]["attention"], g["near_duplicates"]["attention"])
        add(f"image only of --models ({g.get('model_set', 'given')})", g["rankings"]["image"], g["near_duplicates"]["image"], g["text_to_image"])
        add(f"text only of --models ({g.get('model_set', 'given')})", g["rankings"]["text"], g["near_duplicates"]["text"])
    add("image only (imageWeight=1&textWeight=0)", clipart["rankings"]["image"], clipart["near_duplicates"]["image"], clipart["text_to_image"])
    add("text only (imageWeight=0&textWeight=1)", clipart["rankings"]["text"], clipart["near_duplicates"]["text"])
    add("concatenation (imageWeight=1&textWeight=1)", clipart["rankings"]["concatenation"], clipart["near_duplicates"]["concatenation"])
    if "mean" in sets:
        add("mean fusion (attention vector zeroed)", sets["mean"]["rankings"]["attention"], sets["mean"]["near_duplicates"]["attention"])
    if "untrained" in sets:
        u = sets["untrained"]
        add("random towers: image only", u["rankings"]["image"], u["near_duplicates"]["image"], u["text_to_image"])
        add("random towers: text only", u["rankings"]["text"], u["near_duplicates"]["text"])
        add("random towers: fused (equal weights)", u["rankings"]["attention"], u["near_duplicates"]["attention"])
    if "lexical" in clipart["rankings"]:
        add("lexical (mode=lexical: the item's whole text, TF-IDF cosine)", clipart["rankings"]["lexical"], None)
        add("**hybrid** (mode=hybrid: that + fused vector, the service's defaults)", clipart["rankings"]["hybrid"], None, clipart.get("text_to_image_hybrid"))
        add("hybrid with the image-only vector", clipart["rankings"]["hybrid_image"])
        add("hybrid with the text-only vector", clipart["rankings"]["hybrid_text"])
    add("TF-IDF cosine over the same texts", tfidf_rankings(drawings))

    weights = np.array(list(clipart["image_weights"].values()))
    header = ["ranking", f"category P@10, macro ({len(evaluated)} folders, {sum(counts[c] for c in evaluated)} queries)",
              f"shapes/stars P@10 ({counts['shapes/stars']})", f"other boilerplate folders P@10 ({len(apart)} folders)",
              "keyword nDCG@10", f"near-duplicate top-1 ({NEAR_DUPLICATE_DRAWINGS}×3)", "near-duplicate top-1 outside shapes/stars",
              f"text→image R@10 (all {len(drawings)})",
              "text→image R@10 (outside boilerplate folders)"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    lines.append("")
    lines.append(f"Attention weight of the image over the {len(weights)} test items (from GET /items): "
                 f"mean {weights.mean():.3f}, sd {weights.std():.3f}, p5 {np.percentile(weights, 5):.3f}, p25 {np.percentile(weights, 25):.3f}, "
                 f"median {np.median(weights):.3f}, p75 {np.percentile(weights, 75):.3f}, p95 {np.percentile(weights, 95):.3f}.")
    lines.append(f"Other boilerplate folders: {', '.join(apart)}.")
    lines.append(f"Macro-averaged folders: {', '.join(sorted(evaluated))}.")
    if "text_queries" in clipart:
        lines += [""] + text_query_table(clipart["text_queries"], drawings, by_sku, evaluated)
    text = "\n".join(lines)
    open(os.path.join(work, "table.md"), "w").write(text + "\n")
    print(text)


def text_query_table(answers, drawings, by_sku, evaluated):
    """P@10 and MRR of the text queries (relevant: the query drawing's folder), correct and misspelled, per mode."""
    queries = [q for q in text_queries(drawings) if by_sku[q["sku"]].category in evaluated]
    header = ["GET /search mode", f"P@10 ({sum(not q['typo'] for q in queries)} queries)", "MRR",
              f"P@10 misspelled ({sum(q['typo'] for q in queries)})", "MRR misspelled", "misspelled / correct P@10"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for mode in TEXT_MODES:
        cells = [mode]
        means = []
        for typo in (False, True):
            p10, rr, category_of = {}, {}, {}
            for q in queries:
                if q["typo"] != typo:
                    continue
                folder = by_sku[q["sku"]].category
                ranked = [by_sku[r].category for r in answers[mode].get(q["id"], []) if r in by_sku]
                p10[q["id"]] = metrics.precision_at_k(ranked, {folder})
                rr[q["id"]] = next((1 / (i + 1) for i, c in enumerate(ranked[:metrics.K]) if c == folder), 0.0)
                category_of[q["id"]] = folder
            cells += [interval(p10, category_of), interval(rr, category_of)]
            means.append(np.mean(list(p10.values())) if p10 else float("nan"))
        cells.append(f"{means[1] / means[0]:.3f}" if means[0] else "n/a")
        lines.append("| " + " | ".join(cells) + " |")
    lines.append("")
    lines.append("Text queries: each test drawing's title and one or two of its keywords, and each with one edit in one word of 4+ letters "
                 f"(seed {TEXT_QUERY_SEED}); relevant: the drawing's folder, the drawing itself excluded; macro-averaged over folders.")
    return lines


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("step", choices=["prepare", "measure", "table"])
    parser.add_argument("--work", required=True)
    parser.add_argument("--clipart", default="models/clipart")
    parser.add_argument("--set")
    parser.add_argument("--url")
    args = parser.parse_args()
    if args.step == "prepare":
        prepare(args.work, args.clipart)
    elif args.step == "measure":
        measure(args.work, args.set, args.url)
    else:
        table(args.work)


if __name__ == "__main__":
    main()
