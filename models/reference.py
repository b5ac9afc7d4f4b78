#!/usr/bin/python3
"""An independent reference for the generated models: numpy forward passes written from the architecture,
a plain-Python BERT tokenizer, preprocessing and fusion. It writes golden.json and golden.png beside a
generated model set; the service's tests must reproduce those vectors within 1e-4.

It reads only the weights from the ONNX files (numpy_helper), never runs or interprets their graphs, so a
wiring mistake in the generator, in ONNX Runtime's use or in the service's pre/post-processing shows up.

Usage: reference.py DIR
"""
import json
import os
import struct
import sys
import unicodedata
import zlib

import numpy as np
import onnx
from onnx import numpy_helper

from generate import SIZES

GOLDEN_TEXTS = [
    "Café Noir — Men's Slim-Fit Cotton T-Shirt, size XL!",
    "红色 衬衫 new 2026 summer dresses",
]


def weights(path):
    """Initializers in creation order, grouped by their name without the generator's _N counter."""
    groups = {}
    for init in onnx.load(path).graph.initializer:
        groups.setdefault(init.name.rsplit("_", 1)[0], []).append(numpy_helper.to_array(init).astype(np.float64))
    return groups


# ---------------------------------------------------------------- image


def write_png(path, rgb):
    height, width, _ = rgb.shape
    raw = b"".join(b"\x00" + rgb[y].tobytes() for y in range(height))

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
                + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b""))


def golden_image():
    # Smooth gradients plus seeded noise, 256x256: the manifest's resize (shorter side to 256) is then the
    # identity, so the reference needs no resampling kernel and a channel or crop mistake cannot hide.
    y, x = np.mgrid[0:256, 0:256]
    rgb = np.stack([x, y, (x + y) // 2], axis=-1).astype(np.float64)
    rgb += np.random.default_rng(7).integers(-40, 40, size=rgb.shape)
    return np.clip(rgb, 0, 255).astype(np.uint8)


def preprocess(rgb, pre):
    offset = (rgb.shape[0] - pre["crop"]) // 2
    crop = rgb[offset:offset + pre["crop"], offset:offset + pre["crop"]].astype(np.float64) / 255.0
    crop = (crop - np.array(pre["mean"])) / np.array(pre["std"])
    return crop.transpose(2, 0, 1)[None]  # NCHW


def conv2d(x, w, b, stride, pad):
    n, c, h, wd = x.shape
    o, _, k, _ = w.shape
    x = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    oh, ow = (h + 2 * pad - k) // stride + 1, (wd + 2 * pad - k) // stride + 1
    cols = np.empty((n, c, k, k, oh, ow))
    for i in range(k):
        for j in range(k):
            cols[:, :, i, j] = x[:, :, i:i + stride * oh:stride, j:j + stride * ow:stride]
    return np.einsum("nckhxy,ockh->noxy", cols, w, optimize=True) + b[None, :, None, None]


def maxpool(x):
    x = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)), constant_values=-np.inf)
    oh, ow = (x.shape[2] - 3) // 2 + 1, (x.shape[3] - 3) // 2 + 1
    return np.max([x[:, :, i:i + 2 * oh:2, j:j + 2 * ow:2] for i in range(3) for j in range(3)], axis=0)


def resnet_forward(x, w, blocks, bottleneck):
    ws, bs = iter(w["conv_w"]), iter(w["conv_b"])

    def conv(t, stride):
        weight = next(ws)
        return conv2d(t, weight, next(bs), stride, weight.shape[2] // 2)

    relu = lambda t: np.maximum(t, 0)
    x = maxpool(relu(conv(x, 2)))
    for stage, count in enumerate(blocks):
        for block in range(count):
            stride = 2 if stage > 0 and block == 0 else 1
            if bottleneck:
                y = conv(relu(conv(relu(conv(x, 1)), stride)), 1)
            else:
                y = conv(relu(conv(x, stride)), 1)
            # The generator creates the branch first, then a projection shortcut when the shape changes.
            shortcut = x if y.shape == x.shape else conv(x, stride)
            x = relu(y + shortcut)
    return x.mean(axis=(2, 3))


# ---------------------------------------------------------------- text


def is_punctuation(ch):
    cp = ord(ch)
    if 33 <= cp <= 47 or 58 <= cp <= 64 or 91 <= cp <= 96 or 123 <= cp <= 126:
        return True
    return unicodedata.category(ch).startswith("P")


def is_cjk(ch):
    cp = ord(ch)
    return (0x4E00 <= cp <= 0x9FFF or 0x3400 <= cp <= 0x4DBF or 0x20000 <= cp <= 0x2A6DF or 0x2A700 <= cp <= 0x2CEAF
            or 0xF900 <= cp <= 0xFAFF or 0x2F800 <= cp <= 0x2FA1F)


def basic_tokenize(text, tok):
    """BERT's BasicTokenizer: lower-casing, accent stripping, punctuation and CJK characters split off."""
    if tok["lowerCase"]:
        text = text.lower()
    if tok["stripAccents"]:
        text = "".join(c for c in unicodedata.normalize("NFD", text) if unicodedata.category(c) != "Mn")
    spaced = []
    for ch in text:
        if tok["splitChineseCharacters"] and is_cjk(ch) or is_punctuation(ch):
            spaced += [" ", ch, " "]
        else:
            spaced.append(" " if ch.isspace() else ch)
    return "".join(spaced).split()


def wordpiece(word, vocab):
    """BERT's WordpieceTokenizer on one word: greedy longest match, "##" continuations, [UNK] if none fits."""
    start, pieces = 0, []
    while start < len(word):
        end = len(word)
        while end > start:
            piece = ("##" if start else "") + word[start:end]
            if piece in vocab:
                break
            end -= 1
        if end == start:
            return [vocab["[UNK]"]]
        pieces.append(vocab[piece])
        start = end
    return pieces


def truncate(words, budget):
    """The pieces of the words that fit in `budget`: a word that does not fit whole is left out with every word
    after it, as Microsoft.ML.Tokenizers' EncodeToIds(maxTokenCount) does (Hugging Face would cut inside it)."""
    ids = []
    for pieces in words:
        if len(ids) + len(pieces) > budget:
            break
        ids += pieces
    return ids


def tokenize(text, vocab, tok):
    """BERT's BasicTokenizer + WordpieceTokenizer, as in the original Google implementation."""
    ids = truncate([wordpiece(word, vocab) for word in basic_tokenize(text, tok)], tok["maxSequenceLength"] - 2)
    return [vocab["[CLS]"]] + ids + [vocab["[SEP]"]]


def layer_norm(x, gamma, beta):
    mean = x.mean(-1, keepdims=True)
    var = ((x - mean) ** 2).mean(-1, keepdims=True)
    return (x - mean) / np.sqrt(var + 1e-12) * gamma + beta


def bert_forward(ids, w, heads):
    ids = np.array(ids)[None]
    mask = np.ones_like(ids, dtype=np.float64)
    x = w["word_embeddings"][0][ids] + w["position_embeddings"][0][: ids.shape[1]][None] + w["token_type_embeddings"][0][np.zeros_like(ids)]
    x = layer_norm(x, w["emb_ln_gamma"][0], w["emb_ln_beta"][0])
    n, length, h = x.shape
    d = h // heads
    additive = (1.0 - mask)[:, None, None, :] * -10000.0
    layer = 0
    while f"l{layer}_q_w" in w:
        p = lambda name: (w[f"l{layer}_{name}_w"][0], w[f"l{layer}_{name}_b"][0])
        split = lambda t: t.reshape(n, length, heads, d).transpose(0, 2, 1, 3)
        q, k, v = (split(x @ p(name)[0] + p(name)[1]) for name in ("q", "k", "v"))
        scores = q @ k.transpose(0, 1, 3, 2) / np.sqrt(d) + additive
        probs = np.exp(scores - scores.max(-1, keepdims=True))
        probs /= probs.sum(-1, keepdims=True)
        context = (probs @ v).transpose(0, 2, 1, 3).reshape(n, length, h)
        x = layer_norm(x + context @ p("o")[0] + p("o")[1], w[f"l{layer}_attn_ln_gamma"][0], w[f"l{layer}_attn_ln_beta"][0])
        inner = x @ p("ffn1")[0] + p("ffn1")[1]
        gelu = 0.5 * inner * (1 + np.vectorize(__import__("math").erf)(inner / np.sqrt(2)))
        x = layer_norm(x + gelu @ p("ffn2")[0] + p("ffn2")[1], w[f"l{layer}_ffn_ln_gamma"][0], w[f"l{layer}_ffn_ln_beta"][0])
        layer += 1
    return (x * mask[..., None]).sum(1) / mask.sum(1, keepdims=True)  # mean pooling over the mask


# ---------------------------------------------------------------- fusion


def read_safetensors(path):
    with open(path, "rb") as f:
        size = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(size))
        data = f.read()
    return {k: np.frombuffer(data[v["data_offsets"][0]:v["data_offsets"][1]], "<f4").reshape(v["shape"]).astype(np.float64)
            for k, v in header.items() if k != "__metadata__"}


def fuse(image, text, f):
    unit = lambda v: v / np.linalg.norm(v)
    projected = [unit(f["image_projection"] @ image), unit(f["text_projection"] @ text)]
    scores = np.array([f["attention_vector"] @ np.tanh(f["attention_weight"] @ p + f["attention_bias"]) for p in projected])
    weights = np.exp(scores - scores.max())
    weights /= weights.sum()
    return projected, weights, unit(weights[0] * projected[0] + weights[1] * projected[1])


def main():
    out = sys.argv[1]
    manifest = json.load(open(os.path.join(out, "manifest.json")))
    spec = SIZES[manifest["name"].removeprefix("generated-")]
    blocks, bottleneck = spec["resnet"]["blocks"], spec["resnet"]["bottleneck"]

    rgb = golden_image()
    write_png(os.path.join(out, "golden.png"), rgb)
    image = resnet_forward(preprocess(rgb, manifest["image"]["preprocessing"]), weights(os.path.join(out, manifest["image"]["file"])), blocks, bottleneck)[0]

    tok = manifest["text"]["tokenizer"]
    vocab = {t: i for i, t in enumerate(open(os.path.join(out, tok["vocab"]), encoding="utf-8").read().split("\n")) if t}
    text_weights = weights(os.path.join(out, manifest["text"]["file"]))
    heads = spec["bert"]["heads"]
    texts = []
    for text in GOLDEN_TEXTS:
        ids = tokenize(text, vocab, tok)
        texts.append({"text": text, "ids": ids, "embedding": bert_forward(ids, text_weights, heads)[0].tolist()})

    fusion = read_safetensors(os.path.join(out, manifest["fusion"]["file"]))
    projected, attention, fused = fuse(image, np.array(texts[0]["embedding"]), fusion)
    golden = {
        "image": {"file": "golden.png", "embedding": image.tolist()},
        "texts": texts,
        "fusion": {"imageProjected": projected[0].tolist(), "textProjected": projected[1].tolist(),
                   "weights": attention.tolist(), "fused": fused.tolist()},
    }
    with open(os.path.join(out, "golden.json"), "w") as f:
        json.dump(golden, f)


if __name__ == "__main__":
    main()
