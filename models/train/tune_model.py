"""The attention fusion retrained on stored vectors, the encoders frozen.

The service stores each item's projected modalities p = normalise(W x) (items.image_embedding, text_embedding),
not the encoders' raw outputs. A new projection W' = M W gives normalise(W' x) = normalise(M p), whatever the
length of W x, so learning M on the stored p (M starts at the identity) retrains the projections exactly; the
attention (W_a, b_a, v) is learned as it is. Exported, the bundle holds M W and the new attention: the service
then computes from pictures and texts exactly the vectors trained here.
"""
import copy

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from model import AttentionFusion

SEED = 20261206
# Cosines differ by little between neighbours: the BPR margin is scaled as a softmax temperature of 0.1 would.
PAIR_SCALE = 10.0
# The distillation's weight against the objective (--distill-weight), per objective: each item's fused vector pulled
# towards its live one by (1 - cosine). The softmax's 3 is the setting bench feedback measured better than the live
# fusion on held-out days (docs/benchmarks.md, "The tuned fusion measured"); pairwise and both keep the 10 they had.
DISTILL_WEIGHTS = {"softmax": 3.0, "pairwise": 10.0, "both": 10.0}
DISTILL_WEIGHT = DISTILL_WEIGHTS["softmax"]
# Items per step in the distillation (all of them when fewer).
DISTILL_SAMPLE = 4096
# A pull of every parameter towards its start, so a few pairs cannot swing the weights.
ANCHOR_WEIGHT = 1e-3
LEARNING_RATE = 3e-3
BATCH = 256
MAX_EPOCHS = 200
PATIENCE = 15  # epochs without a better held-out loss before stopping
# What is learned from (--objective): "pairwise", BPR on (query, engaged, skipped-above); "softmax", each engagement
# (query, engaged) against the whole catalog (a sample of CATALOG_SAMPLE in large ones), the task recall@10 measures;
# "both", their sum. The softmax is the default: it is the objective measured to lift next-engagement recall@10 on
# held-out days; the pairwise one barely moved it (docs/architecture.md, "The fusion learns from clicks").
OBJECTIVE = "softmax"
# The softmax's temperature on cosines (--temperature).
TEMPERATURE = 0.05
# Catalog items per step as the softmax's negatives (all of them when fewer), besides the batch's own items.
CATALOG_SAMPLE = 4096
# Which items the distillation keeps where they were (--distill-items): "all", or "without-events" only, so items
# with events are free to move as their engagements say.
DISTILL_ITEMS = "all"
# A second distillation on the items no event names (--keep-weight): the softmax pushes every catalog item away from
# the queries as a negative, items never engaged with included, so those are held in place far more firmly.
KEEP_WEIGHT = 100.0
# Which parts of the fusion learn (--trainable): "all" (projection factors and attention), "attention" (the
# per-item weighting of picture against words only), "projections".
TRAINABLE = "all"


class TunedFusion(nn.Module):
    """The live fusion with learnable left factors on its projections; forward over stored projected vectors."""

    def __init__(self, tensors, trainable="all"):
        super().__init__()
        fused_dim, _ = tensors["image_projection"].shape
        self.base = {k: torch.tensor(v) for k, v in tensors.items()}
        self.image_factor = nn.Parameter(torch.eye(fused_dim))
        self.text_factor = nn.Parameter(torch.eye(fused_dim))
        attention_dim = tensors["attention_weight"].shape[0]
        self.fusion = AttentionFusion(1, 1, fused_dim, attention_dim)
        with torch.no_grad():
            for name in ("attention_weight", "attention_bias", "attention_vector"):
                getattr(self.fusion, name).copy_(self.base[name])
        # The projections live in the factors; the fusion's own are unused.
        self.fusion.image_projection.requires_grad_(False)
        self.fusion.text_projection.requires_grad_(False)
        if trainable == "attention":
            self.image_factor.requires_grad_(False)
            self.text_factor.requires_grad_(False)
        elif trainable == "projections":
            for name in ("attention_weight", "attention_bias", "attention_vector"):
                getattr(self.fusion, name).requires_grad_(False)
        self.start = {k: v.detach().clone() for k, v in self.named_parameters() if v.requires_grad}

    def forward(self, image, text, has_image, has_text):
        """Fused unit vectors and the image's weight, as AttentionFusion.cs: a missing modality is masked out."""
        p_image = F.normalize(image @ self.image_factor.T, dim=-1)
        p_text = F.normalize(text @ self.text_factor.T, dim=-1)
        scores = torch.stack([self.fusion.score(p_image), self.fusion.score(p_text)], dim=-1)
        scores = scores.masked_fill(~torch.stack([has_image, has_text], dim=-1), float("-inf"))
        weights = scores.softmax(-1)
        fused = weights[:, :1] * p_image + weights[:, 1:] * p_text
        return F.normalize(fused, dim=-1), weights[:, 0]

    def anchor(self):
        return sum(((p - self.start[n]) ** 2).sum() for n, p in self.named_parameters() if p.requires_grad)

    def tensors(self):
        """fusion.safetensors' tensors: the factors folded into the live projections."""
        with torch.no_grad():
            return {
                "image_projection": (self.image_factor @ self.base["image_projection"]).numpy(),
                "text_projection": (self.text_factor @ self.base["text_projection"]).numpy(),
                "attention_weight": self.fusion.attention_weight.detach().numpy().copy(),
                "attention_bias": self.fusion.attention_bias.detach().numpy().copy(),
                "attention_vector": self.fusion.attention_vector.detach().numpy().copy(),
            }


class ItemTensors:
    def __init__(self, items):
        self.image = torch.tensor(items.image)
        self.text = torch.tensor(items.text)
        self.has_image = torch.tensor(items.has_image)
        self.has_text = torch.tensor(items.has_text)
        self.live = torch.tensor(items.fused)
        self.skus = items.skus

    def fuse(self, model, idx=None):
        if idx is None:
            return model(self.image, self.text, self.has_image, self.has_text)
        return model(self.image[idx], self.text[idx], self.has_image[idx], self.has_text[idx])


def pair_margins(fused, pairs):
    q, pos, neg = (fused[torch.as_tensor(c)] for c in (pairs.query, pairs.positive, pairs.negative))
    return (q * pos).sum(-1) - (q * neg).sum(-1)


def batch_margins(model, items, pairs):
    """The margins of a batch, fusing only the items it names."""
    q, pos, neg = (items.fuse(model, torch.as_tensor(c))[0] for c in (pairs.query, pairs.positive, pairs.negative))
    return (q * pos).sum(-1) - (q * neg).sum(-1)


def pair_loss(margins, weights):
    """Weighted BPR: -log σ(scale · (cos(q, positive) - cos(q, negative)))."""
    weights = torch.as_tensor(weights)
    return (weights * F.softplus(-PAIR_SCALE * margins)).sum() / weights.sum()


def softmax_loss(queries, candidates, candidate_index, queries_index, positives, weights):
    """Weighted cross-entropy of each engaged item among the candidates by cosine / TEMPERATURE, the query itself
    left out. queries [B, F], candidates [C, F]; positives: each row's engaged item's column in candidates."""
    logits = queries @ candidates.T / TEMPERATURE
    logits = logits.masked_fill(candidate_index[None, :] == queries_index[:, None], float("-inf"))
    weights = torch.as_tensor(weights)
    return (weights * F.cross_entropy(logits, torch.as_tensor(positives), reduction="none")).sum() / weights.sum()


def engaged_loss_and_recall(fused, engaged, k=10):
    """The softmax loss of the engagements over the whole catalog, and the weighted share whose engaged item is in
    its query's top k by cosine (recall@k of the engaged item, inverse-propensity weighted)."""
    everything = torch.arange(len(fused))
    query = torch.as_tensor(engaged.query)
    loss = softmax_loss(fused[query], fused, everything, query, engaged.item, engaged.weight)
    scores = fused[query] @ fused.T
    scores[torch.arange(len(query)), query] = float("-inf")
    engaged_score = scores[torch.arange(len(query)), torch.as_tensor(engaged.item)]
    hit = ((scores > engaged_score[:, None]).sum(-1) < k).float()
    weights = torch.as_tensor(engaged.weight)
    return float(loss), float((weights * hit).sum() / weights.sum())


def evaluate(model, items, pairs, engaged=None):
    """Weighted loss and plain pairwise accuracy (the positive closer to the query than the skipped item) of the pairs;
    with the engagements, also their softmax loss and weighted recall@10."""
    with torch.no_grad():
        fused, _ = items.fuse(model)
        margins = pair_margins(fused, pairs)
        result = {"loss": float(pair_loss(margins, pairs.weight)), "pairwiseAccuracy": float((margins > 0).float().mean()),
                  "weightedAccuracy": float((torch.as_tensor(pairs.weight) * (margins > 0).float()).sum() / float(pairs.weight.sum()))}
        if engaged is not None and len(engaged):
            result["softmaxLoss"], result["engagedRecallAt10"] = engaged_loss_and_recall(fused, engaged)
        return result


def objective_loss(result):
    """The held-out figure early stopping watches: the loss of what is learned from."""
    return {"pairwise": result["loss"], "softmax": result.get("softmaxLoss", result["loss"]),
            "both": result["loss"] + result.get("softmaxLoss", 0.0)}[OBJECTIVE]


def check_reproduces_live(model, items, tolerance=1e-4):
    """The untrained module must give the stored fused vectors back: else the stored vectors are not what this code
    thinks they are, and nothing learned here would carry over to the service."""
    with torch.no_grad():
        fused, _ = items.fuse(model)
    worst = float((1 - (fused * items.live).sum(-1)).abs().max())
    if worst > tolerance:
        raise SystemExit(f"the live fusion does not reproduce the stored vectors (worst 1 - cosine {worst:.2e}): "
                         "are the items embedded by the live set?")
    return worst


def batches(generator, train_pairs, train_engaged):
    """One epoch's batches: (pairs, engagements) per step, either None when the objective does not use it. The
    epoch runs over the engagements for the softmax (and both), the pairs split into as many steps alongside."""
    uses_softmax = OBJECTIVE in ("softmax", "both") and train_engaged is not None and len(train_engaged)
    if not uses_softmax:
        order = generator.permutation(len(train_pairs))
        return [(train_pairs.subset(order[i:i + BATCH]), None) for i in range(0, len(order), BATCH)]
    order = generator.permutation(len(train_engaged))
    steps = [train_engaged.subset(order[i:i + BATCH]) for i in range(0, len(order), BATCH)]
    if OBJECTIVE == "softmax":
        return [(None, e) for e in steps]
    pair_order = generator.permutation(len(train_pairs))
    size = -(-len(pair_order) // len(steps))
    return [(train_pairs.subset(pair_order[i * size:(i + 1) * size]), e) for i, e in enumerate(steps)]


def step_softmax(model, items, engaged, generator):
    """The softmax loss of a batch of engagements against a catalog sample (all items when few) and the batch's own."""
    n_items = len(items.live)
    sample = np.arange(n_items) if n_items <= CATALOG_SAMPLE else generator.choice(n_items, CATALOG_SAMPLE, replace=False)
    candidates = np.unique(np.concatenate([sample, engaged.item, engaged.query]))
    column = {int(c): i for i, c in enumerate(candidates)}
    fused = items.fuse(model, torch.as_tensor(candidates))[0]
    rows = torch.as_tensor([column[int(q)] for q in engaged.query])
    positives = [column[int(e)] for e in engaged.item]
    return softmax_loss(fused[rows], fused, torch.as_tensor(candidates), torch.as_tensor(engaged.query), positives, engaged.weight)


def drift(model, items, candidates, generator):
    """Mean (1 - cosine) between tuned and live fused vectors over a sample of DISTILL_SAMPLE of the candidates."""
    sample = torch.as_tensor(generator.choice(candidates, min(len(candidates), DISTILL_SAMPLE), replace=False))
    return (1 - (items.fuse(model, sample)[0] * items.live[sample]).sum(-1)).mean()


def train(model, items, train_pairs, held_pairs, log=print, train_engaged=None, held_engaged=None, kept=None, still=None):
    """Adam on the objective + distillation + anchor, early stopping on the held-out objective's loss; returns the best
    epoch. kept: a mask of the items the distillation keeps (default: all of them); still: the items no event names,
    held by KEEP_WEIGHT besides."""
    torch.manual_seed(SEED)
    generator = np.random.default_rng(SEED)
    optimiser = torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=LEARNING_RATE)
    kept_items = np.flatnonzero(kept) if kept is not None else np.arange(len(items.live))
    still_items = np.flatnonzero(still) if still is not None and OBJECTIVE != "pairwise" else np.array([], np.int64)
    best = (objective_loss(evaluate(model, items, held_pairs, held_engaged)), 0, copy.deepcopy(model.state_dict()))
    epoch = 0  # --max-epochs 0 writes the live fusion back: a run without training, for checking tests
    for epoch in range(1, MAX_EPOCHS + 1):
        model.train()
        for pairs, engaged in batches(generator, train_pairs, train_engaged):
            loss = torch.zeros(())
            if pairs is not None and len(pairs):
                loss = loss + pair_loss(batch_margins(model, items, pairs), pairs.weight)
            if engaged is not None:
                loss = loss + step_softmax(model, items, engaged, generator)
            if len(kept_items):
                loss = loss + DISTILL_WEIGHT * drift(model, items, kept_items, generator)
            if len(still_items):
                loss = loss + KEEP_WEIGHT * drift(model, items, still_items, generator)
            loss = loss + ANCHOR_WEIGHT * model.anchor()
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
        held = objective_loss(evaluate(model, items, held_pairs, held_engaged))
        if held < best[0] - 1e-6:
            best = (held, epoch, copy.deepcopy(model.state_dict()))
        elif epoch - best[1] >= PATIENCE:
            break
        if epoch % 10 == 0:
            log(f"epoch {epoch}: held-out loss {held:.4f} (best {best[0]:.4f} at epoch {best[1]})")
    model.load_state_dict(best[2])
    return best[1], epoch


def movement(model, items, mask):
    """Mean and max (1 - cosine) between the items' tuned and live fused vectors, over the mask."""
    with torch.no_grad():
        fused, _ = items.fuse(model)
    change = (1 - (fused * items.live).sum(-1)).numpy()[mask]
    if len(change) == 0:
        return {"items": 0, "meanCosineChange": None, "maxCosineChange": None}
    return {"items": int(mask.sum()), "meanCosineChange": float(change.mean()), "maxCosineChange": float(change.max())}


def image_weights(model, items):
    with torch.no_grad():
        _, weight = items.fuse(model)
    both = items.has_image & items.has_text
    if not bool(both.any()):
        return None
    p5, p50, p95 = np.percentile(weight[both].numpy(), [5, 50, 95])
    return [round(float(p5), 4), round(float(p50), 4), round(float(p95), 4)]


def weight_changes(before, after):
    """Per tensor: its norm before and after, and the norm of the change."""
    return {name: {"normBefore": float(np.linalg.norm(before[name])), "normAfter": float(np.linalg.norm(after[name])),
                   "changeNorm": float(np.linalg.norm(after[name] - before[name])),
                   "relativeChange": float(np.linalg.norm(after[name] - before[name]) / max(np.linalg.norm(before[name]), 1e-12))}
            for name in before}
