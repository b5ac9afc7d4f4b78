"""Retrieval metrics shared by the training's own figures and the quality benchmark (which gets its rankings
from the service's HTTP API): per-query values, macro averages over categories, bootstrap intervals."""
import collections
import math
import re

import numpy as np

K = 10
MIN_CATEGORY_SIZE = 5  # a category enters the macro average with at least this many drawings in the split


def precision_at_k(ranked, relevant, k=K):
    return sum(1 for r in ranked[:k] if r in relevant) / k


def ndcg_at_k(ranked_gains, ideal_gains, k=K):
    """nDCG@k with linear gains; None when nothing in the catalog is relevant."""
    def dcg(gains):
        return sum(g / math.log2(i + 2) for i, g in enumerate(gains[:k]))
    ideal = dcg(sorted(ideal_gains, reverse=True))
    return None if ideal == 0 else dcg(ranked_gains) / ideal


def macro(values_by_query, category_of):
    """Mean over categories of the mean over each category's queries: every category weighs the same."""
    by_category = collections.defaultdict(list)
    for query, value in values_by_query.items():
        by_category[category_of[query]].append(value)
    return float(np.mean([np.mean(v) for v in by_category.values()])) if by_category else float("nan")


def bootstrap(values_by_query, category_of=None, resamples=1000, seed=20261123):
    """95% interval by resampling queries (within each category when macro-averaging, so each category keeps
    its weight and its size). Returns (estimate, low, high)."""
    rng = np.random.default_rng(seed)
    queries = sorted(values_by_query)
    if category_of is None:
        values = np.array([values_by_query[q] for q in queries], dtype=float)
        estimate = float(values.mean())
        samples = [values[rng.integers(0, len(values), len(values))].mean() for _ in range(resamples)]
    else:
        groups = collections.defaultdict(list)
        for q in queries:
            groups[category_of[q]].append(values_by_query[q])
        groups = [np.array(v, dtype=float) for _, v in sorted(groups.items())]
        estimate = float(np.mean([g.mean() for g in groups]))
        samples = [np.mean([g[rng.integers(0, len(g), len(g))].mean() for g in groups]) for _ in range(resamples)]
    low, high = np.percentile(samples, [2.5, 97.5])
    return estimate, float(low), float(high)


def evaluated_categories(drawings, boilerplate):
    """Categories that enter the macro average: large enough in this split, and not boilerplate."""
    counts = collections.Counter(d.category for d in drawings)
    return {c for c, n in counts.items() if n >= MIN_CATEGORY_SIZE and c not in boilerplate}


def tfidf_vectors(texts):
    """Plain TF-IDF over lower-cased words (smoothed idf), L2-normalised rows: the lexical baseline."""
    words = [re.findall(r"[^\W_]+", t.lower()) for t in texts]
    vocabulary = {w: i for i, w in enumerate(sorted({w for ws in words for w in ws}))}
    counts = np.zeros((len(texts), len(vocabulary)))
    for row, ws in enumerate(words):
        for w in ws:
            counts[row, vocabulary[w]] += 1
    idf = np.log((1 + len(texts)) / (1 + (counts > 0).sum(0))) + 1
    vectors = counts * idf
    return vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
