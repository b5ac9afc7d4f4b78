#!/usr/bin/python3
"""An INT8 model set from an FP32 one: ./similarity.sh models quantize SRC DST runs `make`, which runs the steps.

  quantize.py make SRC DST --bench DLL [--if-changed]
                                             prepare, calibrate (Similarity.Bench), write, and golden.json +
                                             golden.png when SRC has them (Similarity.Bench golden-int8);
                                             --if-changed: nothing when DST was made from SRC's current files

  quantize.py prepare SRC WORK [--items N]   WORK/image-calibration.onnx (the image graph with each Conv's input
                                             and output exposed) and WORK/calibration-images.txt (N openclipart
                                             drawings of the training split, spread over its folders)
  (Similarity.Bench calibrate runs that graph through ONNX Runtime and writes WORK/ranges.json)
  quantize.py write SRC DST --ranges WORK/ranges.json
                                             DST: the image tower static (QDQ around Conv, calibrated ranges),
                                             the text tower dynamic (DynamicQuantizeLinear + MatMulInteger),
                                             weights int8 per channel; vocabulary and fusion copied; a manifest
                                             with the new SHA-256s and a `quantization` section

Why static for the image and dynamic for the text: a CNN's activations after ReLU have stable ranges that a few
hundred drawings pin down, and static QDQ lets ONNX Runtime run whole blocks in QLinearConv; a transformer's
activations vary per sentence, and quantising them per call costs one pass over a 128-768 wide row. That is
ONNX Runtime's own advice (docs: "dynamic for RNNs and transformers, static for CNNs").
"""
import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys

import onnx

import int8

OPENCLIPART_PNG = "/usr/share/openclipart/png"
CALIBRATION_ITEMS = 300  # "a few hundred catalog items": the ranges moved by < 1% between 200 and 300 here


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def training_split_drawings(count):
    """count drawings of the training split (models/train/data.py's rule: SHA-256 of the path, buckets 2-9),
    evenly spaced over the sorted list so that every folder has its share; never a validation or test drawing."""
    paths = []
    for folder, _, files in os.walk(OPENCLIPART_PNG):
        for name in files:
            if name.endswith(".png"):
                path = os.path.relpath(os.path.join(folder, name), OPENCLIPART_PNG)[:-4]
                if int(hashlib.sha256(path.encode()).hexdigest(), 16) % 10 >= 2:
                    paths.append(path)
    paths.sort()
    if len(paths) < count:
        raise SystemExit(f"only {len(paths)} training drawings under {OPENCLIPART_PNG}")
    return [os.path.join(OPENCLIPART_PNG, paths[i * len(paths) // count] + ".png") for i in range(count)]


def prepare(src, work, items):
    manifest = json.load(open(os.path.join(src, "manifest.json")))
    os.makedirs(work, exist_ok=True)
    image = onnx.load(os.path.join(src, manifest["image"]["file"]))
    onnx.save(int8.calibration_model(image), os.path.join(work, "image-calibration.onnx"))
    with open(os.path.join(work, "calibration-images.txt"), "w") as f:
        f.write("\n".join(training_split_drawings(items)) + "\n")


def write(src, dst, ranges_path):
    manifest = json.load(open(os.path.join(src, "manifest.json")))
    calibration = json.load(open(ranges_path))
    os.makedirs(dst, exist_ok=True)

    image = int8.quantize_static_conv(onnx.load(os.path.join(src, manifest["image"]["file"])), calibration["ranges"])
    text = int8.quantize_dynamic_matmul(onnx.load(os.path.join(src, manifest["text"]["file"])))
    for model, part in ((image, "image"), (text, "text")):
        model.producer_name = "similarity-int8"
        onnx.checker.check_model(model)
        onnx.save(model, os.path.join(dst, manifest[part]["file"]))
        manifest[part]["sha256"] = sha256(os.path.join(dst, manifest[part]["file"]))
    for name in (manifest["text"]["tokenizer"]["vocab"], manifest["fusion"]["file"]):
        shutil.copyfile(os.path.join(src, name), os.path.join(dst, name))

    source = {"name": manifest.pop("name"), "description": manifest.pop("description", None)}
    source["sha256"] = source_hashes(src, manifest)
    manifest.pop("training", None)
    ordered = {
        "name": os.path.basename(os.path.normpath(dst)),
        "description": f"INT8 of {source['name']} (models/quantize.py): the same interface, vocabulary and fusion; "
                       "image tower static QDQ (calibrated), text tower dynamic; weights int8 per channel.",
        **manifest,
        "quantization": {
            "source": source,
            "weights": "int8, symmetric [-127, 127], per output channel (Conv: axis 0; MatMul/Gemm: per column)",
            "image": f"static: QuantizeLinear/DequantizeLinear around every Conv, uint8 activations, min/max over "
                     f"{calibration['items']} training-split drawings; bias int32",
            "text": "dynamic: DynamicQuantizeLinear (uint8, per tensor, per call) + MatMulInteger for every MatMul "
                    "with a constant weight; attention's activation x activation MatMuls stay float",
            "calibration": {"items": calibration["items"], "tensors": len(calibration["ranges"])},
        },
    }
    with open(os.path.join(dst, "manifest.json"), "w") as f:
        json.dump(ordered, f, indent=2)
        f.write("\n")


def source_hashes(src, manifest):
    return {manifest[p]["file"]: sha256(os.path.join(src, manifest[p]["file"])) for p in ("image", "text")}


def make(src, dst, bench, items, if_changed):
    manifest = json.load(open(os.path.join(src, "manifest.json")))
    if if_changed and os.path.exists(os.path.join(dst, "manifest.json")):
        made = json.load(open(os.path.join(dst, "manifest.json"))).get("quantization", {}).get("source", {})
        if made.get("sha256") == source_hashes(src, manifest):
            return
    work = os.path.join(".data", "quantize", os.path.basename(os.path.normpath(dst)))
    dotnet = ["dotnet", bench]
    prepare(src, work, items)
    subprocess.run(dotnet + ["calibrate", "--manifest", os.path.join(src, "manifest.json"), "--model", os.path.join(work, "image-calibration.onnx"),
                             "--files", os.path.join(work, "calibration-images.txt"), "--out", os.path.join(work, "ranges.json")], check=True)
    write(src, dst, os.path.join(work, "ranges.json"))
    if os.path.exists(os.path.join(src, "golden.png")) and os.path.exists(os.path.join(src, "golden.json")):
        shutil.copyfile(os.path.join(src, "golden.png"), os.path.join(dst, "golden.png"))
        subprocess.run(dotnet + ["golden-int8", "--manifest", os.path.join(dst, "manifest.json"), "--like", os.path.join(src, "golden.json"),
                                 "--image", os.path.join(dst, "golden.png"), "--out", os.path.join(dst, "golden.json")], check=True)
    print(f"{dst}: image {os.path.getsize(os.path.join(dst, manifest['image']['file'])) / 1e6:.1f} MB, "
          f"text {os.path.getsize(os.path.join(dst, manifest['text']['file'])) / 1e6:.1f} MB")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("step", choices=["make", "prepare", "write"])
    parser.add_argument("src")
    parser.add_argument("dst", help="WORK for prepare, the new set's folder for write")
    parser.add_argument("--items", type=int, default=CALIBRATION_ITEMS)
    parser.add_argument("--ranges")
    parser.add_argument("--bench", default="src/Similarity.Bench/bin/Release/net10.0/Similarity.Bench.dll")
    parser.add_argument("--if-changed", action="store_true")
    args = parser.parse_args()
    if args.step == "make":
        make(args.src, args.dst, args.bench, args.items, args.if_changed)
    elif args.step == "prepare":
        prepare(args.src, args.dst, args.items)
    else:
        if not args.ranges:
            sys.exit("write needs --ranges (from Similarity.Bench calibrate)")
        write(args.src, args.dst, args.ranges)


if __name__ == "__main__":
    main()
