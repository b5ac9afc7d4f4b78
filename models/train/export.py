"""Writes a trained (or untrained) ClipModel as a model set the service loads: image.onnx, text.onnx, vocab.txt,
fusion.safetensors and a manifest pinning each file's SHA-256; golden.json + golden.png hold torch's own
forward pass, which the service's tests must reproduce within 1e-4."""
import json
import os
import sys

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from generate import OPSET, sha256, write_safetensors  # noqa: E402
from reference import write_png  # noqa: E402

MEAN, STD = [0.485, 0.456, 0.406], [0.229, 0.224, 0.225]  # torchvision's; the training normalises the same way
FUSION_TENSORS = ("image_projection", "text_projection", "attention_weight", "attention_bias", "attention_vector")

GOLDEN_TEXTS = [
    "Red Apple. fruit, food, sweet. A shiny red apple with a green leaf",
    "Café Noir — Men's Slim-Fit Cotton T-Shirt, size XL!",
    " ".join(["a very long text that the service truncates"] * 20),
]


def export_onnx(model, out):
    image, text = model.image.eval(), model.text.eval()
    crop = model.spec["image_size"]
    with torch.no_grad():
        torch.onnx.export(image, torch.zeros(1, 3, crop, crop), os.path.join(out, "image.onnx"),
                          input_names=["pixel_values"], output_names=["embedding"],
                          dynamic_axes={"pixel_values": {0: "batch"}, "embedding": {0: "batch"}}, opset_version=OPSET)
        names = ["input_ids", "attention_mask", "token_type_ids"]
        sample = tuple(torch.ones(2, 7, dtype=torch.int64) for _ in names)
        torch.onnx.export(text, sample, os.path.join(out, "text.onnx"), input_names=names, output_names=["last_hidden_state"],
                          dynamic_axes={n: {0: "batch", 1: "sequence"} for n in names + ["last_hidden_state"]}, opset_version=OPSET)


def write_fusion(fusion, path):
    tensors = {name: getattr(fusion, name).detach().numpy() for name in FUSION_TENSORS}
    write_safetensors(path, tensors, {"format": "similarity-attention-fusion", "version": "1"})


def write_manifest(out, name, description, spec, tokenizer_settings, training):
    files = {f: sha256(os.path.join(out, f)) for f in ("image.onnx", "text.onnx", "vocab.txt", "fusion.safetensors")}
    manifest = {
        "name": name,
        "description": description,
        "image": {
            "file": "image.onnx", "sha256": files["image.onnx"],
            "input": "pixel_values", "output": "embedding", "outputKind": "pooled", "dimension": spec["image_widths"][-1],
            # Shorter side to the crop size, so a drawing loses only the ends of its longer side.
            "preprocessing": {"resize": spec["image_size"], "crop": spec["image_size"], "mean": MEAN, "std": STD},
        },
        "text": {
            "file": "text.onnx", "sha256": files["text.onnx"],
            "inputs": {"inputIds": "input_ids", "attentionMask": "attention_mask", "tokenTypeIds": "token_type_ids"},
            "output": "last_hidden_state", "outputKind": "lastHiddenState", "pooling": "mean", "dimension": spec["text_hidden"],
            "tokenizer": {"vocab": "vocab.txt", "sha256": files["vocab.txt"], **tokenizer_settings},
        },
        "fusion": {"file": "fusion.safetensors", "sha256": files["fusion.safetensors"], "dimension": spec["fused_dim"]},
        "training": training,  # not read by the service: how this set was made, for people
    }
    with open(os.path.join(out, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=2)


def normalise(pixels):
    """uint8 [N,H,W,3] → the model's float [N,3,H,W], as the service's ImagePreprocessor."""
    x = torch.as_tensor(pixels).permute(0, 3, 1, 2).float() / 255.0
    return (x - torch.tensor(MEAN)[:, None, None]) / torch.tensor(STD)[:, None, None]


def write_golden(model, tokenizer, golden_pixels, out):
    """torch's forward pass of one image already at the crop size (so no resampler enters the comparison) and of
    GOLDEN_TEXTS, with the fusion of the image and the first text."""
    model.eval()
    write_png(os.path.join(out, "golden.png"), golden_pixels)
    with torch.no_grad():
        image = model.encode_image(normalise(golden_pixels[None]))[0]
        texts = []
        for text in GOLDEN_TEXTS:
            ids = tokenizer.encode(text)
            tensor = torch.tensor([ids])
            texts.append({"text": text, "ids": ids, "embedding": model.encode_text(tensor, torch.ones_like(tensor))[0].tolist()})
        image_projected = model.fusion.project_image(image[None])
        text_projected = model.fusion.project_text(torch.tensor([texts[0]["embedding"]]))
        fused, image_weight = model.fusion(image_projected, text_projected)
    golden = {
        "image": {"file": "golden.png", "embedding": image.tolist()},
        "texts": texts,
        "fusion": {"imageProjected": image_projected[0].tolist(), "textProjected": text_projected[0].tolist(),
                   "weights": [float(image_weight[0]), float(1 - image_weight[0])], "fused": fused[0].tolist()},
    }
    with open(os.path.join(out, "golden.json"), "w") as f:
        json.dump(golden, f)
    return golden


def export(model, vocab, tokenizer, golden_pixels, out, name, description, training):
    from text import write_vocab

    os.makedirs(out, exist_ok=True)
    model.eval()
    export_onnx(model, out)
    write_vocab(vocab, os.path.join(out, "vocab.txt"))
    write_fusion(model.fusion, os.path.join(out, "fusion.safetensors"))
    write_manifest(out, name, description, model.spec, {k: v for k, v in tokenizer.settings.items()}, training)
    write_golden(model, tokenizer, golden_pixels, out)
