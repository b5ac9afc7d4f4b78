#!/usr/bin/python3
"""Trains the default model set on Debian's openclipart catalog: a compact ResNet image tower and a compact BERT
text tower, jointly, with CLIP's contrastive image↔text loss, and the attention fusion with a multi-view loss
(an item's fused vector must find its other view: another augmentation of its image with another partial text),
an image-to-image loss between two augmentations (near-duplicates), and a category loss: the training split's
folders as classes for the image, text and fused vectors alike (one shared, normalised class vector per folder;
boilerplate folders left out). The validation and test drawings are never trained on; their folders are, through
the training split's drawings.

Usage: train.py --out models/clipart            the full run (seeded; prints the test split's figures)
       train.py --smoke --out DIR                a few steps on a handful of drawings (CI: the loss falls, the export loads)
       train.py --untrained --out DIR            the same towers with their seeded initial weights
"""
import argparse
import math
import os
import random
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

import data
import metrics
from export import MEAN, STD, export, normalise
from model import ClipModel
from text import Tokenizer, learn_vocab

SEED = 20261123
TOKENIZER = {"lowerCase": True, "stripAccents": True, "splitChineseCharacters": True, "maxSequenceLength": 32}  # 96% of texts fit; the text tower costs as much as the image tower at 64

SPECS = {
    # 64 px drawings: ~300 training images/s on one core here; widths 32–256 as the trial.
    "clipart": dict(image_size=64, image_widths=[32, 64, 128, 256], image_blocks=[1, 1, 1, 1],
                    text_hidden=128, text_layers=2, text_heads=4, text_intermediate=512,
                    max_sequence_length=TOKENIZER["maxSequenceLength"], fused_dim=128, attention_dim=64),
    "smoke": dict(image_size=32, image_widths=[8, 16, 32, 64], image_blocks=[1, 1, 1, 1],
                  text_hidden=32, text_layers=1, text_heads=2, text_intermediate=64,
                  max_sequence_length=TOKENIZER["maxSequenceLength"], fused_dim=32, attention_dim=16),
}

# Chosen on the validation split.
TRAINING = dict(
    epochs=20,            # what fits in under an hour on this 2-core machine
    batch=128,            # items per step; each brings two image views and two text views
    learning_rate=2e-3,
    weight_decay=0.05,
    warmup_epochs=1,
    fusion_loss_weight=0.5,
    image_instance_weight=0.5,   # two augmentations of one drawing find each other among the batch's images
    category_loss_weights=dict(image=0.5, text=0.5, fused=1.0),  # the training split's folders; the fused vector's weighs most, as it is what /similar ranks by
    category_scale=16.0,         # the cosine logits' scale of the category loss (normalised softmax)
    source_margin=1.15,   # training crops come from images cached this much larger than the model's input
    max_zoom=1.3,         # random crops down to 1/1.3 of the side (a near-duplicate crop is 1/1.25)
    min_zoom=0.75,        # and zoomed out to 0.75, padded with white, as drawings come with any margin
    word_dropout=0.5,     # the largest share of words a text view drops
)
MIN_WORD_COUNT = 2
MAX_WORD_PIECES = 2000


def seed_everything(seed):
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


# ---------------------------------------------------------------- views


def augment(pixels, size, generator):
    """Random zoom (crop in, or out with white margins), shift and mirror of a uint8 [N,S,S,3] batch → [N,3,size,size]."""
    n = pixels.shape[0]
    x = torch.as_tensor(pixels).permute(0, 3, 1, 2).float() / 255.0
    zoom = torch.empty(n).uniform_(TRAINING["min_zoom"], TRAINING["max_zoom"], generator=generator)
    scale = 1.0 / zoom
    shift = (torch.rand(n, 2, generator=generator) * 2 - 1) * (1 - scale[:, None]).abs().clamp(min=0.1)
    mirror = torch.where(torch.rand(n, generator=generator) < 0.5, -1.0, 1.0)
    theta = torch.zeros(n, 2, 3)
    theta[:, 0, 0] = scale * mirror
    theta[:, 1, 1] = scale
    theta[:, :, 2] = shift
    grid = F.affine_grid(theta, (n, 3, size, size), align_corners=False)
    # Outside the drawing is white: sample the inverted image with zero padding, then invert back.
    x = 1.0 - F.grid_sample(1.0 - x, grid, mode="bilinear", padding_mode="zeros", align_corners=False)
    return (x - torch.tensor(MEAN)[:, None, None]) / torch.tensor(STD)[:, None, None]


def text_view(words, rng, tokenizer):
    """The drawing's words with a random share of them dropped (at least one kept)."""
    p = rng.uniform(0, TRAINING["word_dropout"])
    kept = [w for w in words if rng.random() >= p] or [words[rng.randrange(len(words))]]
    return tokenizer.ids_of_words(kept)


def encode_texts(model, batch, pad_id, buckets=4):
    """Pooled text vectors of a list of id sequences, in their order; padded per length bucket, not to the longest
    of the whole batch (mean pooling over the mask makes the result the same; the cost follows the real lengths)."""
    order = sorted(range(len(batch)), key=lambda i: len(batch[i]))
    size = math.ceil(len(batch) / buckets)
    pooled = [None] * len(batch)
    for start in range(0, len(batch), size):
        chunk = order[start:start + size]
        ids, mask = pad([batch[i] for i in chunk], pad_id)
        for i, vector in zip(chunk, model.encode_text(ids, mask)):
            pooled[i] = vector
    return torch.stack(pooled)


def pad(batch, pad_id):
    length = max(len(ids) for ids in batch)
    ids = torch.full((len(batch), length), pad_id, dtype=torch.int64)
    mask = torch.zeros((len(batch), length), dtype=torch.int64)
    for i, seq in enumerate(batch):
        ids[i, :len(seq)] = torch.tensor(seq)
        mask[i, :len(seq)] = 1
    return ids, mask


# ---------------------------------------------------------------- losses


def contrastive(a, b, scale, same):
    """Symmetric InfoNCE; pairs with identical texts count as matches (openclipart has runs of identical texts,
    which would otherwise be pushed apart)."""
    logits = scale * a @ b.T
    targets = same.float() / same.float().sum(1, keepdim=True)
    return (torch.sum(-targets * logits.log_softmax(1), 1).mean() + torch.sum(-targets * logits.log_softmax(0).T, 1).mean()) / 2


def category_loss(vectors, labels, classes):
    """Normalised-softmax cross-entropy of unit vectors against one unit vector per folder; label -1 is no class."""
    kept = labels >= 0
    if not kept.any():
        return vectors.sum() * 0.0
    logits = TRAINING["category_scale"] * vectors[kept] @ F.normalize(classes, dim=-1).T
    return F.cross_entropy(logits, labels[kept])


def step_loss(model, classes, batch_pixels, batch_words, text_ids, labels, generator, rng, tokenizer):
    n = len(batch_words)
    size = model.spec["image_size"]
    images = augment(np.concatenate([batch_pixels, batch_pixels]), size, generator)
    texts = [text_view(w, rng, tokenizer) for w in batch_words + batch_words]
    image_projected = model.fusion.project_image(model.encode_image(images))
    text_projected = model.fusion.project_text(encode_texts(model, texts, tokenizer.pad))
    scale = model.logit_scale.exp().clamp(max=100)
    same = torch.as_tensor(text_ids)[:, None] == torch.as_tensor(text_ids)[None, :]
    clip = (contrastive(image_projected[:n], text_projected[:n], scale, same)
            + contrastive(image_projected[n:], text_projected[n:], scale, same)) / 2
    fused_a, _ = model.fusion(image_projected[:n], text_projected[:n])
    fused_b, _ = model.fusion(image_projected[n:], text_projected[n:])
    instance = torch.eye(n, dtype=torch.bool)
    multi_view = contrastive(fused_a, fused_b, scale, instance)
    image_instance = contrastive(image_projected[:n], image_projected[n:], scale, instance)
    both = torch.cat([labels, labels])
    weights = TRAINING["category_loss_weights"]
    category = (weights["image"] * category_loss(image_projected, both, classes) + weights["text"] * category_loss(text_projected, both, classes)
                + weights["fused"] * category_loss(torch.cat([fused_a, fused_b]), both, classes))
    loss = clip + TRAINING["fusion_loss_weight"] * multi_view + TRAINING["image_instance_weight"] * image_instance + category
    return loss, {"clip": clip.item(), "multi-view": multi_view.item(), "image": image_instance.item(), "category": category.item()}


# ---------------------------------------------------------------- evaluation


@torch.no_grad()
def embed(model, pixels, texts, tokenizer, batch=256):
    """Projected image and text vectors, fused vectors and image weights, as the service would store them."""
    model.eval()
    images, words = [], []
    for i in range(0, len(pixels), batch):
        images.append(model.fusion.project_image(model.encode_image(normalise(pixels[i:i + batch]))))
    for i in range(0, len(texts), batch):
        words.append(model.fusion.project_text(encode_texts(model, [tokenizer.encode(t) for t in texts[i:i + batch]], tokenizer.pad)))
    image, text = torch.cat(images), torch.cat(words)
    fused, image_weight = model.fusion(image, text)
    mean, _ = model.fusion(image, text, equal_weights=True)
    model.train()
    return {"image": image, "text": text, "attention": fused, "mean": mean, "image_weight": image_weight}


def figures(vectors, drawings, evaluated):
    """Macro category P@10 per ranking (and TF-IDF's), text→image recall@10 and the spread of the attention's image weight."""
    category = [d.category for d in drawings]
    result = {}
    vectors = dict(vectors, tfidf=torch.as_tensor(metrics.tfidf_vectors([d.text for d in drawings])))
    for name in ("image", "text", "mean", "attention", "tfidf"):
        v = vectors[name]
        similarity = v @ v.T
        similarity.fill_diagonal_(-math.inf)
        top = similarity.topk(metrics.K, dim=1).indices.tolist()
        values = {i: metrics.precision_at_k([category[j] for j in top[i]], {category[i]})
                  for i in range(len(drawings)) if category[i] in evaluated}
        result[f"P@10 {name}"] = metrics.macro(values, {i: category[i] for i in values})
    text_to_image = (vectors["text"] @ vectors["image"].T).topk(metrics.K, dim=1).indices
    result["text→image R@10"] = float((text_to_image == torch.arange(len(drawings))[:, None]).any(1).float().mean())
    w = vectors["image_weight"].numpy()
    result["image weight p5/p50/p95"] = [round(float(x), 3) for x in np.percentile(w, [5, 50, 95])]
    return result


# ---------------------------------------------------------------- main


def build(spec_name, drawings, seed):
    seed_everything(seed)
    train_texts = [d.text for d in drawings if d.split == "train"]
    vocab = learn_vocab(train_texts, TOKENIZER, MIN_WORD_COUNT, MAX_WORD_PIECES)
    seed_everything(seed)
    return ClipModel(SPECS[spec_name], len(vocab)), vocab, Tokenizer(vocab, TOKENIZER)


def train(model, tokenizer, train_set, train_pixels, boilerplate, epochs, seed, on_epoch=None, log=print):
    generator = torch.Generator().manual_seed(seed)
    rng = random.Random(seed)
    words = [tokenizer.words(d.text) for d in train_set]
    text_ids = {t: i for i, t in enumerate(sorted({d.text for d in train_set}))}
    text_of = np.array([text_ids[d.text] for d in train_set])
    folders = {c: i for i, c in enumerate(sorted({d.category for d in train_set} - boilerplate))}
    label_of = torch.tensor([folders.get(d.category, -1) for d in train_set])
    # One vector per folder, learned with the towers and thrown away after: it is not part of the model set.
    classes = torch.nn.Parameter(torch.randn(len(folders), model.spec["fused_dim"]) * 0.01)
    batch = min(TRAINING["batch"], len(train_set))
    steps_per_epoch = max(1, len(train_set) // batch)
    total = epochs * steps_per_epoch
    warmup = max(1, int(TRAINING["warmup_epochs"] * steps_per_epoch)) if epochs > 1 else 1
    decay = [p for n, p in model.named_parameters() if p.ndim >= 2 and not n.startswith("fusion.attention")]
    rest = [p for n, p in model.named_parameters() if not (p.ndim >= 2 and not n.startswith("fusion.attention"))] + [classes]
    optimizer = torch.optim.AdamW([{"params": decay, "weight_decay": TRAINING["weight_decay"]}, {"params": rest, "weight_decay": 0.0}],
                                  lr=TRAINING["learning_rate"])
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda s: min(1.0, (s + 1) / warmup) * 0.5 * (1 + math.cos(math.pi * min(1.0, s / total))))
    model.train()
    losses = []
    for epoch in range(epochs):
        started = time.time()
        order = torch.randperm(len(train_set), generator=generator).numpy()
        epoch_losses = []
        for s in range(steps_per_epoch):
            idx = np.sort(order[s * batch:(s + 1) * batch])
            loss, parts = step_loss(model, classes, train_pixels[idx], [words[i] for i in idx], text_of[idx], label_of[idx], generator, rng, tokenizer)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            schedule.step()
            epoch_losses.append(loss.item())
            losses.append(loss.item())
        log(f"epoch {epoch + 1}/{epochs}: loss {np.mean(epoch_losses):.3f} ({', '.join(f'{k} {v:.3f}' for k, v in parts.items())}), "
            f"τ {1 / model.logit_scale.exp().item():.3f}, {time.time() - started:.0f}s")
        if on_epoch:
            on_epoch(epoch)
    return losses


def print_figures(title, result):
    print(title)
    for key, value in result.items():
        print(f"  {key:28} {value if isinstance(value, list) else f'{value:.3f}'}")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", required=True)
    parser.add_argument("--smoke", action="store_true")
    parser.add_argument("--untrained", action="store_true")
    parser.add_argument("--epochs", type=int, default=TRAINING["epochs"])
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--cache", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", ".data", "train-cache"))
    parser.add_argument("--evaluate-every", type=int, default=6, help="validation figures every N epochs (0: never)")
    args = parser.parse_args()
    torch.set_num_threads(max(1, min(2, os.cpu_count() or 1)))
    started = time.time()

    drawings = data.load_catalog()
    if args.smoke:
        return smoke(drawings, args)
    model, vocab, tokenizer = build("clipart", drawings, args.seed)
    size = model.spec["image_size"]
    validation = [d for d in drawings if d.split == "validation"]
    test = [d for d in drawings if d.split == "test"]
    boilerplate = data.boilerplate_categories(drawings)
    print(f"{len(drawings)} drawings: {sum(d.split == 'train' for d in drawings)} train, {len(validation)} validation, {len(test)} test; vocab {len(vocab)}")
    eval_pixels = data.load_pixels(drawings, size, args.cache)
    index = {d.path: i for i, d in enumerate(drawings)}
    golden = eval_pixels[index[validation[0].path]]

    def split_figures(split):
        ds = [d for d in drawings if d.split == split]
        vectors = embed(model, eval_pixels[[index[d.path] for d in ds]], [d.text for d in ds], tokenizer)
        return figures(vectors, ds, metrics.evaluated_categories(ds, boilerplate))

    if args.untrained:
        export(model, vocab, tokenizer, golden, args.out, "clipart-untrained",
               "The clipart towers with their seeded initial weights (a baseline for bench quality).",
               {"seed": args.seed, "spec": model.spec, "epochs": 0})
        print_figures("validation (untrained):", split_figures("validation"))
        return

    source = round(size * TRAINING["source_margin"])
    train_set = [d for d in drawings if d.split == "train"]
    train_pixels = data.load_pixels(train_set, source, args.cache)
    print(f"pixels ready after {time.time() - started:.0f}s")

    def on_epoch(epoch):
        if args.evaluate_every and ((epoch + 1) % args.evaluate_every == 0 or epoch + 1 == args.epochs):
            print_figures(f"validation after epoch {epoch + 1}:", split_figures("validation"))

    train(model, tokenizer, train_set, train_pixels, boilerplate, args.epochs, args.seed, on_epoch)
    trained_minutes = (time.time() - started) / 60
    torch.save(model.state_dict(), os.path.join(args.cache, os.path.basename(os.path.normpath(args.out)) + "-state.pt"))  # to re-export without retraining
    result = split_figures("test")
    export(model, vocab, tokenizer, golden, args.out, "clipart",
           "ResNet (BasicBlocks, 32-256 wide, 64 px) and a 2-layer BERT trained together on Debian's openclipart "
           "(CLIP loss, two augmentations per image, and the training split's folders as classes), with attention fusion "
           "trained on two views per item and the folders. See models/README.md.",
           {"seed": args.seed, "spec": model.spec, "training": TRAINING, "epochs": args.epochs,
            "data": "openclipart-png/svg 0.18, split by SHA-256 of the path: train 80%, validation 10%, test 10%",
            "minutes": round(trained_minutes, 1), "test": result})
    print_figures(f"test split ({len(test)} drawings; {trained_minutes:.1f} min):", result)
    print(f"wrote {args.out}/manifest.json")


def smoke(drawings, args):
    """A few steps on a handful of drawings: the loss must fall, and the export must load in the service."""
    spec = "smoke"
    handful = [d for d in drawings if d.split == "train"][::400][:16]
    seed_everything(args.seed)
    vocab = learn_vocab([d.text for d in handful], TOKENIZER, 1, 50)
    tokenizer = Tokenizer(vocab, TOKENIZER)
    seed_everything(args.seed)
    model = ClipModel(SPECS[spec], len(vocab))
    size = model.spec["image_size"]
    pixels = np.stack([data._load_pixels((os.path.join(data.OPENCLIPART, "png", d.path + ".png"), round(size * TRAINING["source_margin"]))) for d in handful])
    golden = data._load_pixels((os.path.join(data.OPENCLIPART, "png", handful[0].path + ".png"), size))
    TRAINING["batch"] = len(handful)
    losses = train(model, tokenizer, handful, pixels, set(), args.epochs, args.seed, log=lambda line: None)
    first, last = float(np.mean(losses[:3])), float(np.mean(losses[-3:]))
    export(model, vocab, tokenizer, golden, args.out, "clipart-smoke", "A few training steps on 16 drawings (CI).",
           {"seed": args.seed, "spec": model.spec, "epochs": args.epochs, "losses": losses})
    print(f"smoke: loss {first:.3f} → {last:.3f} over {len(losses)} steps; wrote {args.out}")
    if not last < first:
        sys.exit("smoke: the loss did not fall")


if __name__ == "__main__":
    main()
