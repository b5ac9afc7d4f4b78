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
"""
import argparse
import json
import os

import numpy as np

from generate import fusion_weights, sha256, write_safetensors  # the same default fusion and hashing as the generated sets


def export_resnet(path):
    import torch
    import torchvision

    model = torchvision.models.resnet50(weights=torchvision.models.ResNet50_Weights.IMAGENET1K_V2)
    model.fc = torch.nn.Identity()  # the classifier removed: [N,2048] pooled features out
    model.eval()
    torch.onnx.export(model, torch.randn(1, 3, 224, 224), path, input_names=["pixel_values"], output_names=["embedding"],
                      dynamic_axes={"pixel_values": {0: "batch"}, "embedding": {0: "batch"}}, opset_version=17)
    return 2048


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
    parser.add_argument("--text-model", default="bert-base-uncased")
    parser.add_argument("--text-revision", default="main")
    parser.add_argument("--pooling", choices=["mean", "cls"], default="mean")
    parser.add_argument("--max-sequence-length", type=int, default=128)
    parser.add_argument("--fusion-dim", type=int, default=512)
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)

    image_dim = export_resnet(os.path.join(args.out, "image.onnx"))
    text_dim, vocab, lower, model_max = export_bert(os.path.join(args.out, "text.onnx"), args.out, args.text_model, args.text_revision)
    write_safetensors(os.path.join(args.out, "fusion.safetensors"),
                      fusion_weights(np.random.default_rng(20261123), image_dim, text_dim, args.fusion_dim),
                      {"format": "similarity-attention-fusion", "version": "1"})
    manifest = {
        "name": f"resnet50+{args.text_model}",
        "description": f"torchvision ResNet-50 IMAGENET1K_V2 without fc; {args.text_model}@{args.text_revision}; default (untrained) fusion.",
        "image": {"file": "image.onnx", "sha256": sha256(os.path.join(args.out, "image.onnx")), "input": "pixel_values", "output": "embedding",
                  "outputKind": "pooled", "dimension": image_dim,
                  "preprocessing": {"resize": 256, "crop": 224, "mean": [0.485, 0.456, 0.406], "std": [0.229, 0.224, 0.225]}},
        "text": {"file": "text.onnx", "sha256": sha256(os.path.join(args.out, "text.onnx")),
                 "inputs": {"inputIds": "input_ids", "attentionMask": "attention_mask", "tokenTypeIds": "token_type_ids"},
                 "output": "last_hidden_state", "outputKind": "lastHiddenState", "pooling": args.pooling, "dimension": text_dim,
                 "tokenizer": {"vocab": "vocab.txt", "sha256": sha256(vocab), "lowerCase": lower, "stripAccents": lower,
                               "splitChineseCharacters": True, "maxSequenceLength": min(args.max_sequence_length, model_max)}},
        "fusion": {"file": "fusion.safetensors", "sha256": sha256(os.path.join(args.out, "fusion.safetensors")), "dimension": args.fusion_dim},
    }
    with open(os.path.join(args.out, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=2)
    print(f"wrote {args.out}/manifest.json")


if __name__ == "__main__":
    main()
