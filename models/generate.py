#!/usr/bin/python3
"""Generates architecture-faithful ResNet and BERT ONNX encoders with seeded weights, a WordPiece vocab,
default attention-fusion weights and the manifest the service reads.

Pretrained weights cannot be downloaded on the machines this project is built on, so tests and benchmarks
run on these. The graphs have the exact I/O contract of real exports (see models/README.md):
  image: pixel_values float32 [N,3,224,224] -> embedding float32 [N,D]   (torchvision ResNet, fc removed)
  text:  input_ids, attention_mask, token_type_ids int64 [N,L] -> last_hidden_state float32 [N,L,H]
Batch norm is folded into the convolutions, as in every inference export. Deterministic: same size, same bytes.

Usage: generate.py --size tiny|full --out DIR [--quiet]
"""
import argparse
import hashlib
import json
import os
import struct
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OPSET = 17  # LayerNormalization arrived in opset 17

SIZES = {
    # blocks per stage, bottleneck or basic, stem width, stage widths
    "tiny": dict(resnet=dict(blocks=[1, 1, 1, 1], bottleneck=False, stem=8, widths=[8, 16, 32, 64]),
                 bert=dict(vocab=None, hidden=64, layers=2, heads=4, intermediate=128, max_positions=128),
                 fusion_dim=64, max_sequence_length=64),
    "full": dict(resnet=dict(blocks=[3, 4, 6, 3], bottleneck=True, stem=64, widths=[64, 128, 256, 512]),
                 bert=dict(vocab=30522, hidden=768, layers=12, heads=12, intermediate=3072, max_positions=512),
                 fusion_dim=512, max_sequence_length=128),
}

SPECIAL_TOKENS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]

# Words a product catalog uses; the tiny vocab is these plus characters and ## pieces, enough to exercise
# every path of WordPiece (whole words, ## continuations, [UNK]) on real-looking titles.
WORDS = """
the a an and or of for with in on to by from at as is new set pack size small medium large extra
red blue green black white grey gray yellow orange pink purple brown beige navy gold silver
cotton wool silk leather denim linen polyester steel wood wooden glass plastic ceramic paper
shirt t tee jacket coat dress skirt jeans trousers shorts sock socks shoe shoes boot boots hat cap
bag backpack wallet belt watch ring necklace lamp chair table desk sofa bed pillow mug cup plate
bowl knife fork spoon pan pot kettle phone case cable charger speaker headphones keyboard mouse
book pen pencil notebook toy ball game puzzle car bike flower tree cat dog bird fish star heart
men women kids baby unisex classic modern vintage soft warm light heavy long short slim fit
premium basic sport outdoor indoor kitchen home office garden summer winter spring autumn
""".split()
SUFFIXES = ["s", "es", "ed", "ing", "er", "ers", "est", "ly", "y", "ish", "ness", "shirt", "wear"]
CJK = list("红蓝绿黑白色衬衫鞋包帽子杯灯椅桌男女童新款")
PUNCT = list("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~")


def build_vocab(size):
    tokens = list(SPECIAL_TOKENS) + PUNCT + list("0123456789") + [chr(c) for c in range(ord("a"), ord("z") + 1)]
    tokens += ["##" + chr(c) for c in range(ord("a"), ord("z") + 1)] + ["##" + d for d in "0123456789"]
    tokens += CJK + ["##" + s for s in SUFFIXES]
    tokens += WORDS
    tokens = list(dict.fromkeys(tokens))  # a vocab maps each token to one id: first occurrence wins
    if size is not None:
        # Full size: the embedding table of bert-base; the rest are placeholder tokens as in BERT's own vocab.
        tokens += [f"[unused{i}]" for i in range(size - len(tokens))]
    return tokens


class Graph:
    """A small helper that names nodes and initializers uniquely while a graph is built."""

    def __init__(self, rng):
        self.rng, self.nodes, self.inits, self.count = rng, [], [], 0

    def name(self, prefix):
        self.count += 1
        return f"{prefix}_{self.count}"

    def const(self, prefix, array):
        name = self.name(prefix)
        self.inits.append(numpy_helper.from_array(np.asarray(array), name))
        return name

    def op(self, op_type, inputs, prefix=None, **attrs):
        out = self.name(prefix or op_type.lower())
        self.nodes.append(helper.make_node(op_type, inputs, [out], name=out + "_node", **attrs))
        return out


# ---------------------------------------------------------------- ResNet


def conv(g, x, cin, cout, k, stride, relu, scale=1.0):
    # He-normal weights; a folded batch norm shows up as the bias.
    w = g.rng.standard_normal((cout, cin, k, k)).astype(np.float32) * np.float32(np.sqrt(2.0 / (cin * k * k)) * scale)
    b = (g.rng.standard_normal(cout) * 0.01).astype(np.float32)
    y = g.op("Conv", [x, g.const("conv_w", w), g.const("conv_b", b)], "conv",
             kernel_shape=[k, k], strides=[stride, stride], pads=[k // 2] * 4)
    return g.op("Relu", [y]) if relu else y


def resnet(rng, spec):
    g = Graph(rng)
    x = conv(g, "pixel_values", 3, spec["stem"], 7, 2, relu=True)
    x = g.op("MaxPool", [x], "maxpool", kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1])
    cin = spec["stem"]
    expansion = 4 if spec["bottleneck"] else 1
    for stage, (blocks, width) in enumerate(zip(spec["blocks"], spec["widths"])):
        for block in range(blocks):
            stride = 2 if stage > 0 and block == 0 else 1
            cout = width * expansion
            # The last convolution of each residual branch is scaled down so random weights keep activations tame.
            if spec["bottleneck"]:
                y = conv(g, x, cin, width, 1, 1, relu=True)
                y = conv(g, y, width, width, 3, stride, relu=True)  # stride on the 3x3, as torchvision's v1.5
                y = conv(g, y, width, cout, 1, 1, relu=False, scale=0.2)
            else:
                y = conv(g, x, cin, width, 3, stride, relu=True)
                y = conv(g, y, width, cout, 3, 1, relu=False, scale=0.2)
            shortcut = x if (stride == 1 and cin == cout) else conv(g, x, cin, cout, 1, stride, relu=False)
            x = g.op("Relu", [g.op("Add", [y, shortcut])])
            cin = cout
    pooled = g.op("GlobalAveragePool", [x], "gap")
    g.nodes.append(helper.make_node("Flatten", [pooled], ["embedding"], name="flatten", axis=1))
    graph = helper.make_graph(
        g.nodes, "resnet",
        [helper.make_tensor_value_info("pixel_values", TensorProto.FLOAT, ["batch", 3, 224, 224])],
        [helper.make_tensor_value_info("embedding", TensorProto.FLOAT, ["batch", cin])], g.inits)
    return graph, cin


# ---------------------------------------------------------------- BERT


def dense(g, x, din, dout, prefix):
    w = (g.rng.standard_normal((din, dout)) * 0.02).astype(np.float32)
    b = np.zeros(dout, np.float32)
    return g.op("Add", [g.op("MatMul", [x, g.const(prefix + "_w", w)]), g.const(prefix + "_b", b)], prefix)


def layer_norm(g, x, hidden, prefix):
    return g.op("LayerNormalization",
                [x, g.const(prefix + "_gamma", np.ones(hidden, np.float32)), g.const(prefix + "_beta", np.zeros(hidden, np.float32))],
                prefix, axis=-1, epsilon=1e-12)


def bert(rng, spec, vocab_size):
    g = Graph(rng)
    h, heads = spec["hidden"], spec["heads"]
    d = h // heads
    word = g.const("word_embeddings", (rng.standard_normal((vocab_size, h)) * 0.02).astype(np.float32))
    position = g.const("position_embeddings", (rng.standard_normal((spec["max_positions"], h)) * 0.02).astype(np.float32))
    token_type = g.const("token_type_embeddings", (rng.standard_normal((2, h)) * 0.02).astype(np.float32))

    # Position ids 0..L-1: slice the table to the sequence length read from input_ids' shape.
    length = g.op("Gather", [g.op("Shape", ["input_ids"]), g.const("one", np.array([1], np.int64))], "seq_len", axis=0)
    positions = g.op("Slice", [position, g.const("zero", np.array([0], np.int64)), length, g.const("axis0", np.array([0], np.int64))], "positions")
    x = g.op("Add", [g.op("Add", [g.op("Gather", [word, "input_ids"], "word_emb"), g.op("Gather", [token_type, "token_type_ids"], "type_emb")]), positions])
    x = layer_norm(g, x, h, "emb_ln")

    # Additive mask [N,1,1,L]: 0 where attended, -10000 where padded (BERT's own constant).
    mask = g.op("Cast", ["attention_mask"], "mask_f", to=TensorProto.FLOAT)
    mask = g.op("Mul", [g.op("Sub", [g.const("one_f", np.array(1.0, np.float32)), mask]), g.const("neg", np.array(-10000.0, np.float32))], "mask_add")
    mask = g.op("Unsqueeze", [mask, g.const("axes", np.array([1, 2], np.int64))], "mask_4d")

    split_shape = g.const("split_shape", np.array([0, 0, heads, d], np.int64))
    merge_shape = g.const("merge_shape", np.array([0, 0, h], np.int64))
    scale = g.const("scale", np.array(1.0 / np.sqrt(d), np.float32))
    for layer in range(spec["layers"]):
        p = f"l{layer}"

        def heads_of(t, perm):
            return g.op("Transpose", [g.op("Reshape", [t, split_shape])], perm=perm)

        q = heads_of(dense(g, x, h, h, p + "_q"), [0, 2, 1, 3])  # [N,heads,L,d]
        k = heads_of(dense(g, x, h, h, p + "_k"), [0, 2, 3, 1])  # [N,heads,d,L]
        v = heads_of(dense(g, x, h, h, p + "_v"), [0, 2, 1, 3])
        scores = g.op("Add", [g.op("Mul", [g.op("MatMul", [q, k]), scale]), mask], p + "_scores")
        probs = g.op("Softmax", [scores], p + "_probs", axis=-1)
        context = g.op("Reshape", [g.op("Transpose", [g.op("MatMul", [probs, v])], perm=[0, 2, 1, 3]), merge_shape])
        x = layer_norm(g, g.op("Add", [x, dense(g, context, h, h, p + "_o")]), h, p + "_attn_ln")
        inner = dense(g, x, h, spec["intermediate"], p + "_ffn1")
        # Exact GELU: 0.5·x·(1 + erf(x/√2))
        erf = g.op("Erf", [g.op("Div", [inner, g.const("sqrt2", np.array(np.sqrt(2.0), np.float32))])])
        gelu = g.op("Mul", [g.op("Mul", [inner, g.const("half", np.array(0.5, np.float32))]), g.op("Add", [erf, g.const("one_g", np.array(1.0, np.float32))])], p + "_gelu")
        ffn = dense(g, gelu, spec["intermediate"], h, p + "_ffn2")
        out_name = "last_hidden_state" if layer == spec["layers"] - 1 else None
        x = layer_norm(g, g.op("Add", [x, ffn]), h, p + "_ffn_ln")
        if out_name:
            g.nodes.append(helper.make_node("Identity", [x], [out_name], name="output"))

    ints = [helper.make_tensor_value_info(n, TensorProto.INT64, ["batch", "sequence"]) for n in ("input_ids", "attention_mask", "token_type_ids")]
    graph = helper.make_graph(g.nodes, "bert", ints,
                              [helper.make_tensor_value_info("last_hidden_state", TensorProto.FLOAT, ["batch", "sequence", h])], g.inits)
    return graph


# ---------------------------------------------------------------- fusion weights


def orthogonal(rng, rows, cols):
    """A [rows, cols] matrix with orthonormal rows (or columns when rows > cols): angles are kept."""
    a = rng.standard_normal((max(rows, cols), min(rows, cols)))
    q, r = np.linalg.qr(a)
    q = q * np.sign(np.diag(r))
    return (q if rows >= cols else q.T).astype(np.float32)


def write_safetensors(path, tensors, metadata):
    header, offset, blobs = {"__metadata__": metadata}, 0, []
    for name, array in tensors.items():
        data = np.ascontiguousarray(array, dtype="<f4").tobytes()
        header[name] = {"dtype": "F32", "shape": list(array.shape), "data_offsets": [offset, offset + len(data)]}
        offset += len(data)
        blobs.append(data)
    encoded = json.dumps(header, separators=(",", ":")).encode()
    encoded += b" " * (-len(encoded) % 8)  # the format pads the header to 8 bytes
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(encoded)) + encoded + b"".join(blobs))


def fusion_weights(rng, image_dim, text_dim, fused_dim, attention_dim=64):
    # Neutral attention: the score vector is zero, so present modalities get equal weights until trained.
    return {
        "image_projection": orthogonal(rng, fused_dim, image_dim),
        "text_projection": orthogonal(rng, fused_dim, text_dim),
        "attention_weight": orthogonal(rng, attention_dim, fused_dim),
        "attention_bias": np.zeros(attention_dim, np.float32),
        "attention_vector": np.zeros(attention_dim, np.float32),
    }


# ---------------------------------------------------------------- main


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def save_model(graph, path, producer):
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name=producer)
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, path)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", choices=sorted(SIZES), default="tiny")
    parser.add_argument("--out", required=True)
    parser.add_argument("--seed", type=int, default=20261123)
    parser.add_argument("--quiet", action="store_true")
    args = parser.parse_args()
    spec = SIZES[args.size]
    os.makedirs(args.out, exist_ok=True)
    stamp_path = os.path.join(args.out, ".generated")
    stamp = json.dumps({"size": args.size, "seed": args.seed, "generator": sha256(__file__)})
    if os.path.exists(stamp_path) and open(stamp_path).read() == stamp and os.path.exists(os.path.join(args.out, "manifest.json")):
        if not args.quiet:
            print(f"{args.out}: up to date")
        return

    vocab = build_vocab(spec["bert"]["vocab"])
    with open(os.path.join(args.out, "vocab.txt"), "w", encoding="utf-8") as f:
        f.write("\n".join(vocab) + "\n")

    image_graph, image_dim = resnet(np.random.default_rng(args.seed), spec["resnet"])
    save_model(image_graph, os.path.join(args.out, "image.onnx"), "similarity-generator-resnet")
    save_model(bert(np.random.default_rng(args.seed + 1), spec["bert"], len(vocab)), os.path.join(args.out, "text.onnx"), "similarity-generator-bert")
    text_dim = spec["bert"]["hidden"]
    write_safetensors(os.path.join(args.out, "fusion.safetensors"),
                      fusion_weights(np.random.default_rng(args.seed + 2), image_dim, text_dim, spec["fusion_dim"]),
                      {"format": "similarity-attention-fusion", "version": "1"})

    files = {name: sha256(os.path.join(args.out, name)) for name in ("image.onnx", "text.onnx", "vocab.txt", "fusion.safetensors")}
    manifest = {
        "name": f"generated-{args.size}",
        "description": f"Seeded {args.size} ResNet/BERT from models/generate.py (seed {args.seed}): for tests and benchmarks, not for retrieval quality.",
        "image": {
            "file": "image.onnx", "sha256": files["image.onnx"],
            "input": "pixel_values", "output": "embedding", "outputKind": "pooled", "dimension": image_dim,
            "preprocessing": {"resize": 256, "crop": 224, "mean": [0.485, 0.456, 0.406], "std": [0.229, 0.224, 0.225]},
        },
        "text": {
            "file": "text.onnx", "sha256": files["text.onnx"],
            "inputs": {"inputIds": "input_ids", "attentionMask": "attention_mask", "tokenTypeIds": "token_type_ids"},
            "output": "last_hidden_state", "outputKind": "lastHiddenState", "pooling": "mean", "dimension": text_dim,
            "tokenizer": {"vocab": "vocab.txt", "sha256": files["vocab.txt"], "lowerCase": True, "stripAccents": True,
                          "splitChineseCharacters": True, "maxSequenceLength": spec["max_sequence_length"]},
        },
        "fusion": {"file": "fusion.safetensors", "sha256": files["fusion.safetensors"], "dimension": spec["fusion_dim"]},
    }
    with open(os.path.join(args.out, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=2)
    with open(stamp_path, "w") as f:
        f.write(stamp)
    if not args.quiet:
        print(f"{args.out}: image {image_dim}-d, text {text_dim}-d, fused {spec['fusion_dim']}-d, vocab {len(vocab)}")


if __name__ == "__main__":
    sys.exit(main())
