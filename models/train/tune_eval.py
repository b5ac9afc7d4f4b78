"""Scores a `models tune` variant offline on `bench feedback`'s held-out steps, for choosing its settings.

`bench feedback` writes its held-out (query, next) steps with each query item's training co-visitors to
.data/bench-feedback/held-out-steps.tsv and keeps its database. This script trains `models tune` with the given
flags on that database (the bundle goes to a scratch folder, nothing is deployed) and scores the content-only
ranking (cosine of the fused vectors, the query left out: what /similar?blend=0 ranks) of the live fusion and of
the trained one on those steps: recall@10 and nDCG@10 on warm query items (≥ 3 co-visitors) and on the cold slice,
with 95% bootstrap intervals over visits. Its figures are for choices on the validation seed; the reported ones come
from `bench feedback --tune` itself, through the service.

    /usr/bin/python3 models/train/tune_eval.py --steps .data/bench-feedback/held-out-steps.tsv \
        --connection "Host=...;Database=similarity_bench_feedback" -- --objective softmax
"""
import argparse
import csv
import os
import sys
import tempfile

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tune  # noqa: E402

K = 10
WARM_CO_VISITORS = 3
RESAMPLES = 1000


def read_steps(path):
    """Visits as lists of (query, next, co-visitors)."""
    visits = {}
    with open(path) as f:
        for row in csv.DictReader(f, delimiter="\t"):
            visits.setdefault(int(row["visit"]), []).append((row["query"], row["next"], int(row["co_visitors"])))
    return [visits[v] for v in sorted(visits)]


def ranks(fused, index, visits):
    """Each step's 1-based rank of the next item among its query's neighbours by cosine (the query left out);
    None where either item is unknown."""
    with torch.no_grad():
        scores = fused @ fused.T
        scores.fill_diagonal_(float("-inf"))
    result = []
    for visit in visits:
        row = []
        for query, next_item, co_visitors in visit:
            if query not in index or next_item not in index:
                row.append((None, co_visitors))
                continue
            q, n = index[query], index[next_item]
            row.append((int((scores[q] > scores[q, n]).sum()) + 1, co_visitors))
        result.append(row)
    return result


def bootstrap(per_visit, seed):
    """Mean over steps and its 95% interval over RESAMPLES resamples of whole visits."""
    kept = [(sum(v), len(v)) for v in per_visit if v]
    sums, counts = np.array([k[0] for k in kept]), np.array([k[1] for k in kept])
    mean = sums.sum() / counts.sum()
    rng = np.random.default_rng(seed)
    drawn = rng.integers(0, len(kept), size=(RESAMPLES, len(kept)))
    means = sums[drawn].sum(1) / counts[drawn].sum(1)
    return mean, np.percentile(means, 2.5), np.percentile(means, 97.5)


def score(step_ranks, seed):
    figures = {}
    for warm in (True, False):
        slice_name = "warm" if warm else "cold"
        recall, ndcg = [], []
        for visit in step_ranks:
            steps = [r for r, c in visit if (c >= WARM_CO_VISITORS) == warm]
            recall.append([1.0 if r is not None and r <= K else 0.0 for r in steps])
            ndcg.append([1 / np.log2(r + 1) if r is not None and r <= K else 0.0 for r in steps])
        figures[f"{slice_name} recall@10"] = bootstrap(recall, seed)
        figures[f"{slice_name} nDCG@10"] = bootstrap(ndcg, seed)
    return figures


def line(label, figures):
    return f"| {label} | " + " | ".join(f"{m:.3f} [{lo:.3f}, {hi:.3f}]" for m, lo, hi in figures.values()) + " |"


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", required=True)
    parser.add_argument("--connection", required=True)
    parser.add_argument("--seed", type=int, default=22, help="the bootstrap's seed")
    parser.add_argument("--label", default="tuned")
    parser.add_argument("tune_args", nargs="*", help="models tune's flags, after --")
    args = parser.parse_args(argv)
    visits = read_steps(args.steps)
    with tempfile.TemporaryDirectory(prefix="tune-eval-") as out:
        tune_args = tune.arguments(["--connection", args.connection, "--out", out, "--name", "eval", *args.tune_args])
        report, _ = tune.tune(tune_args, log=lambda *_: None)
    tune.print_report(report, log=lambda text: print("  " + text))
    w = report["imageWeightP5P50P95"]
    print(f"  image weight p5/p50/p95: {w['before']} -> {w['after']}; epochs: best {report['epochs']['best']} of {report['epochs']['run']}")
    index = {sku: i for i, sku in enumerate(tune.tune.vectors.skus)}
    with torch.no_grad():
        tuned, _ = tune.tune.vectors.fuse(tune.tune.model)
    live = tune.tune.vectors.live
    print("| fusion | warm recall@10 | warm nDCG@10 | cold recall@10 | cold nDCG@10 |")
    print("|---|---:|---:|---:|---:|")
    print(line("live", score(ranks(live, index, visits), args.seed)))
    print(line(args.label, score(ranks(tuned, index, visits), args.seed)))


if __name__ == "__main__":
    main(sys.argv[1:])
