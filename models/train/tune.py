"""./similarity.sh models tune: the attention fusion learns from what shoppers clicked, put in the cart and bought.

Reads the live model set's logged engagements and their (query, engaged, skipped-above) pairs from the database
(tune_data.py), retrains only its attention fusion on the stored per-modality vectors with inverse-propensity weights
(tune_model.py) — by default each engagement against the whole catalog (--objective softmax, the objective measured
to lift recall on held-out days), or BPR on the pairs (--objective pairwise) — with a distillation that keeps every
item's fused vector near its live one, early-stopped on the latest days, and writes a model bundle with its training
report (tune_bundle.py). --deploy URL KEY takes the
bundle through PUT /models/{name} → embed → diff (tune_deploy.py); activation stays a person's choice unless
--activate. Design: docs/architecture.md ("The fusion learns from clicks").
"""
import argparse
import datetime
import json
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tune_bundle  # noqa: E402
import tune_data  # noqa: E402
import tune_model  # noqa: E402
from tune_deploy import DeployError, deploy  # noqa: E402

# The latest fifth of the days with pairs is held out: early stopping and the before/after figures read it only.
HELD_OUT_SHARE = 0.2
# Fewer pairs than this on either side and there is nothing to learn or to judge by: the command refuses.
MIN_PAIRS = 10
REPORT_FILE = "tune-report.json"


def arguments(argv):
    parser = argparse.ArgumentParser(prog="./similarity.sh models tune", description=__doc__.split("\n\n")[0])
    parser.add_argument("--connection", help="Npgsql connection string (default: ConnectionStrings__Similarity)")
    parser.add_argument("--from", dest="live_directory", help="the live set's folder (default: its directory in model_sets)")
    parser.add_argument("--name", help="the tuned set's name (default: LIVE-tuned-YYYYMMDDHHMM)")
    parser.add_argument("--out", help="where the bundle is written (default: .data/tuned/NAME)")
    parser.add_argument("--deploy", nargs=2, metavar=("URL", "KEY"), help="deploy, embed and diff on the service at URL with the admin KEY (@FILE: read from FILE, e.g. @.data/admin-api-key)")
    parser.add_argument("--activate", action="store_true", help="with --deploy: make the tuned set live once ready")
    parser.add_argument("--wait", type=int, default=3600, help="seconds to wait for the embedding (default 3600)")
    parser.add_argument("--max-epochs", type=int, default=tune_model.MAX_EPOCHS)
    parser.add_argument("--distill-weight", type=float,
                        help="how strongly every item is kept where it was, against the objective (default: "
                             + ", ".join(f"{w:g} with {o}" for o, w in tune_model.DISTILL_WEIGHTS.items()) + ")")
    parser.add_argument("--objective", choices=("pairwise", "softmax", "both"), default=tune_model.OBJECTIVE,
                        help="pairwise: BPR on (query, engaged, skipped-above); softmax: each engagement against the whole "
                             "catalog; both: their sum (default %(default)s)")
    parser.add_argument("--temperature", type=float, default=tune_model.TEMPERATURE, help="the softmax's temperature on cosines (default %(default)s)")
    parser.add_argument("--distill-items", choices=("all", "without-events"), default=tune_model.DISTILL_ITEMS,
                        help="the items the distillation keeps where they were (default %(default)s)")
    parser.add_argument("--trainable", choices=("all", "attention", "projections"), default=tune_model.TRAINABLE,
                        help="the parts of the fusion that learn (default %(default)s)")
    parser.add_argument("--keep-weight", type=float, default=tune_model.KEEP_WEIGHT,
                        help="with the softmax: how strongly the items no event names are kept where they were, besides (default %(default)s)")
    parser.add_argument("--learning-rate", type=float, default=tune_model.LEARNING_RATE, help="Adam's (default %(default)s)")
    args = parser.parse_args(argv)
    if args.distill_weight is None:
        args.distill_weight = tune_model.DISTILL_WEIGHTS[args.objective]
    if args.activate and not args.deploy:
        parser.error("--activate needs --deploy URL KEY")
    return args


def weight_range(weights):
    return {"min": float(weights.min()), "max": float(weights.max()), "mean": float(weights.mean())}


def tune(args, log=print):
    torch.manual_seed(tune_model.SEED)
    live, items, pairs, propensities = tune_data.read_all(args.connection)
    live_directory = args.live_directory or live.directory
    if not os.path.isfile(os.path.join(live_directory, "manifest.json")):
        raise SystemExit(f"the live set's folder {live_directory} has no manifest.json here: pass the folder with --from")
    if tune_bundle.fingerprint(live_directory) != live.fingerprint:
        raise SystemExit(f"{live_directory} is not the live set {live.name} ({live.fingerprint}): pass its folder with --from")
    log(f"live set {live.name} ({live.fingerprint}): {len(items.skus)} items, {pairs.lists} served lists with engagements, "
        f"{len(pairs)} pairs")
    if len(pairs) < 2 * MIN_PAIRS:
        raise SystemExit(f"{len(pairs)} pairs (query, engaged, skipped-above): at least {2 * MIN_PAIRS} are needed")
    train_mask, held_mask, split = tune_data.split_by_days(pairs, HELD_OUT_SHARE)
    train_pairs, held_pairs = pairs.subset(train_mask), pairs.subset(held_mask)
    train_engaged_mask, held_engaged_mask = tune_data.split_engagements(pairs.engaged, pairs, held_mask)
    train_engaged, held_engaged = pairs.engaged.subset(train_engaged_mask), pairs.engaged.subset(held_engaged_mask)
    if min(len(train_pairs), len(held_pairs)) < MIN_PAIRS:
        raise SystemExit(f"{len(train_pairs)} training and {len(held_pairs)} held-out pairs ({split}): at least {MIN_PAIRS} each are needed")

    tune_model.MAX_EPOCHS, tune_model.DISTILL_WEIGHT = args.max_epochs, args.distill_weight
    tune_model.OBJECTIVE, tune_model.TEMPERATURE, tune_model.DISTILL_ITEMS = args.objective, args.temperature, args.distill_items
    tune_model.TRAINABLE, tune_model.LEARNING_RATE, tune_model.KEEP_WEIGHT = args.trainable, args.learning_rate, args.keep_weight
    before_tensors = tune_bundle.live_fusion(live_directory)
    model = tune_model.TunedFusion(before_tensors, tune_model.TRAINABLE)
    vectors = tune_model.ItemTensors(items)
    reproduction = tune_model.check_reproduces_live(model, vectors)

    def figures():
        return {"train": tune_model.evaluate(model, vectors, train_pairs, train_engaged),
                "heldOut": tune_model.evaluate(model, vectors, held_pairs, held_engaged)}

    before = figures()
    image_weight_before = tune_model.image_weights(model, vectors)
    # Without events: no event names the item (it may have been shown and skipped: that moves it no more than others).
    kept = ~items.named_by_events if tune_model.DISTILL_ITEMS == "without-events" else None
    best_epoch, last_epoch = tune_model.train(model, vectors, train_pairs, held_pairs, log, train_engaged, held_engaged, kept,
                                              ~items.named_by_events)
    after = figures()
    after_tensors = model.tensors()

    name = args.name or f"{live.name}-tuned-{datetime.datetime.now(datetime.timezone.utc):%Y%m%d%H%M}"
    out = args.out or os.path.join(".data", "tuned", name)
    report = {
        "name": name,
        "live": {"name": live.name, "fingerprint": live.fingerprint},
        "pairs": {"train": len(train_pairs), "heldOut": len(held_pairs), "heldOutSplit": split,
                  "engagementsTrain": len(train_engaged), "engagementsHeldOut": len(held_engaged),
                  "servedLists": pairs.lists, "engagements": pairs.engagements,
                  "engagementsWithoutSkippedAbove": pairs.engagements_without_skipped},
        "eventsByType": pairs.events_by_type,
        "weights": {**weight_range(pairs.weight), "typeWeights": tune_data.TYPE_WEIGHTS,
                    "minPropensity": tune_data.MIN_PROPENSITY, "propensities": {str(k): v for k, v in sorted(propensities.items())}},
        "before": before,
        "after": after,
        "epochs": {"best": best_epoch, "run": last_epoch},
        "itemsWithoutEvents": tune_model.movement(model, vectors, ~items.with_events),
        "itemsWithEvents": tune_model.movement(model, vectors, items.with_events),
        "itemsNamedByNoEvent": tune_model.movement(model, vectors, ~items.named_by_events),
        "imageWeightP5P50P95": {"before": image_weight_before, "after": tune_model.image_weights(model, vectors)},
        "fusionWeights": tune_model.weight_changes(before_tensors, after_tensors),
        "liveReproduction": {"worstCosineGap": reproduction},
        "settings": {"seed": tune_model.SEED, "pairScale": tune_model.PAIR_SCALE, "distillWeight": tune_model.DISTILL_WEIGHT,
                     "anchorWeight": tune_model.ANCHOR_WEIGHT, "learningRate": tune_model.LEARNING_RATE,
                     "batch": tune_model.BATCH, "patience": tune_model.PATIENCE, "heldOutShare": HELD_OUT_SHARE,
                     "objective": tune_model.OBJECTIVE, "temperature": tune_model.TEMPERATURE,
                     "distillItems": tune_model.DISTILL_ITEMS, "keepWeight": tune_model.KEEP_WEIGHT, "trainable": tune_model.TRAINABLE,
                     "maxEpochs": tune_model.MAX_EPOCHS},
    }
    learned_from = (f"{len(train_pairs)} logged pairs (query, engaged, skipped-above)" if tune_model.OBJECTIVE == "pairwise"
                    else f"{len(train_engaged)} logged engagements ({tune_model.OBJECTIVE} objective)")
    description = f"{live.name}'s encoders with its attention fusion retrained on {learned_from} by ./similarity.sh models tune"
    report["fingerprint"] = tune_bundle.write_bundle(live_directory, out, name, description, after_tensors,
                                                     {"tuned": {k: report[k] for k in ("live", "pairs", "before", "after", "settings")}})
    report["bundle"] = os.path.abspath(out)
    tune.model, tune.vectors = model, vectors  # for models/train/tune_eval.py, which scores the trained module offline
    return report, out


def print_report(report, log=print):
    b, a = report["before"]["heldOut"], report["after"]["heldOut"]
    still, moved = report["itemsWithoutEvents"], report["itemsWithEvents"]
    log(f"pairs: {report['pairs']['train']} train, {report['pairs']['heldOut']} held out ({report['pairs']['heldOutSplit']})")
    log("events: " + ", ".join(f"{k} {v}" for k, v in report["eventsByType"].items()))
    w = report["weights"]
    log(f"weights: {w['min']:.3g} to {w['max']:.3g} (mean {w['mean']:.3g})")
    log(f"held-out loss {b['loss']:.4f} -> {a['loss']:.4f}; pairwise accuracy {b['pairwiseAccuracy']:.3f} -> {a['pairwiseAccuracy']:.3f}")
    if "engagedRecallAt10" in b:
        log(f"held-out engagements ({report['pairs']['engagementsHeldOut']}): softmax loss {b['softmaxLoss']:.4f} -> {a['softmaxLoss']:.4f}; "
            f"weighted recall@10 of the engaged item {b['engagedRecallAt10']:.3f} -> {a['engagedRecallAt10']:.3f}")
    for label, m in (("without", still), ("with", moved)):
        if m["items"]:
            log(f"items {label} events ({m['items']}): 1 - cosine mean {m['meanCosineChange']:.4f}, max {m['maxCosineChange']:.4f}")
    log("fusion weights (norm before -> after, change): " + "; ".join(
        f"{k} {v['normBefore']:.3f} -> {v['normAfter']:.3f} ({v['changeNorm']:.3f})" for k, v in report["fusionWeights"].items()))
    log(f"bundle: {report['bundle']} (fingerprint {report['fingerprint']})")


def main(argv=None):
    args = arguments(argv if argv is not None else sys.argv[1:])
    report, out = tune(args)
    print_report(report)
    if args.deploy:
        url, key = args.deploy
        if key.startswith("@"):
            with open(key[1:]) as f:
                key = f.read().strip()
        try:
            report["deploy"] = deploy(url, key, out, report["name"], args.activate, args.wait)
        except DeployError as error:
            report["deploy"] = {"error": str(error)}
        d = report["deploy"]
        if "error" in d:
            print(f"deploy failed: {d['error']}")
        else:
            print(f"diff against the live set: {json.dumps(d['diff'])}")
            print("activated" if d["activated"] else f"activate it when satisfied: {d['activate']}")
    # Beside the bundle, not in it: the report is written after the manifest, which pins the bundle's files.
    with open(os.path.join(out, REPORT_FILE), "w") as f:
        json.dump(report, f, indent=2)
    print(f"report: {os.path.join(out, REPORT_FILE)}")
    return 1 if "error" in report.get("deploy", {}) else 0


if __name__ == "__main__":
    np.seterr(all="ignore")
    sys.exit(main())
