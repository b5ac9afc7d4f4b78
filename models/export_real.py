#!/usr/bin/env python3
"""Exports real pretrained encoders into a model set the service loads: image.onnx, text.onnx, vocab.txt,
default fusion.safetensors and a manifest.json that pins every file's SHA-256.

Run it where the internet and PyTorch are available (not on the build machines, which have neither):
    pip install torch torchvision transformers onnx numpy
    python3 models/export_real.py --out models/real \
        --text-model sentence-transformers/all-MiniLM-L6-v2 --text-revision <commit> --pooling mean
Then copy models/real/ to the service and set Similarity:Models:Manifest=models/real/manifest.json.
The service refuses to start if any file's SHA-256 differs from the one pinned in the manifest.

Pin --text-revision to a commit of the model repository so a re-export gives the same weights; torch's ONNX
export is not byte-for-byte reproducible, so the sums are pinned from what this run produced.

Where there is no internet (the build machines), the image path is checked with what Debian has:
    models/export_real.py --out models/resnet50-untrained --image-weights none --text-from models/tiny --golden
exports torchvision's genuine ResNet-50 architecture with its seeded initial weights, pairs it with an existing
set's text model, and writes golden.json/golden.png: torch's own forward pass, which the service's tests must
reproduce (./similarity.sh test does this before the tests run).
"""
import argparse
import json
import os
import shutil

import numpy as np

from generate import fusion_weights, sha256, write_safetensors  # the same default fusion and hashing as the generated sets
from reference import golden_image, preprocess, write_png

PREPROCESSING = {"resize": 256, "crop": 224, "mean": [0.485, 0.456, 0.406], "std": [0.229, 0.224, 0.225]}


def resnet50(weights):
    import torch
    import torchvision

    torch.manual_seed(20261123)  # weights=None: torchvision's own initialisation, seeded
    model = torchvision.models.resnet50(weights=None if weights == "none" else torchvision.models.ResNet50_Weights[weights])
    model.fc = torch.nn.Identity()  # the classifier removed: [N,2048] pooled features out
    return model.eval()


def export_resnet(model, path):
    import torch

    torch.onnx.export(model, torch.randn(1, 3, 224, 224), path, input_names=["pixel_values"], output_names=["embedding"],
                      dynamic_axes={"pixel_values": {0: "batch"}, "embedding": {0: "batch"}}, opset_version=17)
    return 2048


def write_golden(model, out):
    """torch's forward pass of reference.py's 256×256 golden image: the service's resize is then the identity."""
    import torch

    rgb = golden_image()
    write_png(os.path.join(out, "golden.png"), rgb)
    with torch.no_grad():
        embedding = model(torch.tensor(preprocess(rgb, PREPROCESSING), dtype=torch.float32))[0]
    with open(os.path.join(out, "golden.json"), "w") as f:
        json.dump({"image": {"file": "golden.png", "embedding": embedding.tolist()}}, f)


def copy_text_model(source, out):
    """The text model, vocab and tokenizer settings of an existing model set (its manifest), copied beside the export."""
    text = json.load(open(os.path.join(source, "manifest.json")))["text"]
    for name in (text["file"], text["tokenizer"]["vocab"]):
        shutil.copyfile(os.path.join(source, name), os.path.join(out, name))
    return text


def export_bert(path, out, name, revision):
    import torch
    from transformers import AutoModel, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(name, revision=revision)
    model = AutoModel.from_pretrained(name, revision=revision).eval()
    vocab = os.path.join(out, "vocab.txt")
    tokenizer.save_vocabulary(out)  # writes vocab.txt for WordPiece tokenizers
    sample = tokenizer(["a red cotton shirt"], return_tensors="pt")
    names = ["input_ids", "attention_mask", "token_type_ids"]
    torch.onnx.export(model, tuple(sample[n] for n in names), path, input_names=names, output_names=["last_hidden_state"],
                      dynamic_axes={n: {0: "batch", 1: "sequence"} for n in names + ["last_hidden_state"]}, opset_version=17)
    lower = bool(getattr(tokenizer, "do_lower_case", True))
    return model.config.hidden_size, vocab, lower, min(int(tokenizer.model_max_length), 512)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", required=True)
    parser.add_argument("--image-weights", default="IMAGENET1K_V2", help="a torchvision ResNet50_Weights name, or none")
    parser.add_argument("--text-from", help="take the text model of this model set instead of exporting --text-model")
    parser.add_argument("--golden", action="store_true", help="write golden.json/golden.png: torch's forward pass of an image")
    parser.add_argument("--text-model", default="bert-base-uncased")
    parser.add_argument("--text-revision", default="main")
    parser.add_argument("--pooling", choices=["mean", "cls"], default="mean")
    parser.add_argument("--max-sequence-length", type=int, default=128)
    parser.add_argument("--fusion-dim", type=int, default=512)
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)

    model = resnet50(args.image_weights)
    image_dim = export_resnet(model, os.path.join(args.out, "image.onnx"))
    if args.golden:
        write_golden(model, args.out)
    if args.text_from:
        text = copy_text_model(args.text_from, args.out)
        text_dim, text_name = text["dimension"], f"the text model of {args.text_from}"
    else:
        text_dim, vocab, lower, model_max = export_bert(os.path.join(args.out, "text.onnx"), args.out, args.text_model, args.text_revision)
        text_name = f"{args.text_model}@{args.text_revision}"
        text = {"file": "text.onnx", "sha256": sha256(os.path.join(args.out, "text.onnx")),
                "inputs": {"inputIds": "input_ids", "attentionMask": "attention_mask", "tokenTypeIds": "token_type_ids"},
                "output": "last_hidden_state", "outputKind": "lastHiddenState", "pooling": args.pooling, "dimension": text_dim,
                "tokenizer": {"vocab": "vocab.txt", "sha256": sha256(vocab), "lowerCase": lower, "stripAccents": lower,
                              "splitChineseCharacters": True, "maxSequenceLength": min(args.max_sequence_length, model_max)}}
    write_safetensors(os.path.join(args.out, "fusion.safetensors"),
                      fusion_weights(np.random.default_rng(20261123), image_dim, text_dim, args.fusion_dim),
                      {"format": "similarity-attention-fusion", "version": "1"})
    manifest = {
        "name": f"resnet50-{args.image_weights.lower()}",
        "description": f"torchvision ResNet-50 ({args.image_weights} weights) without fc; {text_name}; default (untrained) fusion.",
        "image": {"file": "image.onnx", "sha256": sha256(os.path.join(args.out, "image.onnx")), "input": "pixel_values", "output": "embedding",
                  "outputKind": "pooled", "dimension": image_dim, "preprocessing": PREPROCESSING},
        "text": text,
        "fusion": {"file": "fusion.safetensors", "sha256": sha256(os.path.join(args.out, "fusion.safetensors")), "dimension": args.fusion_dim},
    }
    with open(os.path.join(args.out, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=2)
    print(f"wrote {args.out}/manifest.json")


if __name__ == "__main__":
    main()
