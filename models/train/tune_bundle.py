"""A tuned model bundle: the live set's encoders and vocabulary copied, the new fusion.safetensors, a manifest with
the new file's SHA-256, and the training report. The fingerprint is computed as the service computes it
(ModelManifest.Load): SHA-256 over the manifest's bytes and each pinned file's SHA-256, the first 16 hex digits."""
import hashlib
import json
import os
import shutil
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from generate import sha256, write_safetensors  # noqa: E402
from reference import read_safetensors  # noqa: E402

FUSION_FORMAT = {"format": "similarity-attention-fusion", "version": "1"}


def read_manifest(directory):
    with open(os.path.join(directory, "manifest.json")) as f:
        return json.load(f)


def pinned_files(manifest):
    """The files the service checks, in its order: image, text, vocabulary, fusion."""
    return [(manifest["image"]["file"], manifest["image"]["sha256"]), (manifest["text"]["file"], manifest["text"]["sha256"]),
            (manifest["text"]["tokenizer"]["vocab"], manifest["text"]["tokenizer"]["sha256"]),
            (manifest["fusion"]["file"], manifest["fusion"]["sha256"])]


def fingerprint(directory):
    digest = hashlib.sha256()
    with open(os.path.join(directory, "manifest.json"), "rb") as f:
        digest.update(f.read())
    for _, pinned in pinned_files(read_manifest(directory)):
        digest.update(bytes.fromhex(pinned))
    return digest.hexdigest()[:16]


def live_fusion(directory):
    manifest = read_manifest(directory)
    return {k: v.astype("float32") for k, v in read_safetensors(os.path.join(directory, manifest["fusion"]["file"])).items()}


def write_bundle(live_directory, out, name, description, tensors, training):
    """Writes the bundle into out (created; an existing manifest.json there is replaced) and returns its fingerprint."""
    manifest = read_manifest(live_directory)
    os.makedirs(out, exist_ok=True)
    for file, _ in pinned_files(manifest)[:3]:
        shutil.copyfile(os.path.join(live_directory, file), os.path.join(out, file))
    fusion_file = manifest["fusion"]["file"]
    write_safetensors(os.path.join(out, fusion_file), tensors, FUSION_FORMAT)
    manifest["name"], manifest["description"] = name, description
    manifest["fusion"]["sha256"] = sha256(os.path.join(out, fusion_file))
    manifest["training"] = training  # not read by the service: how this set was made, for people
    with open(os.path.join(out, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=2)
    return fingerprint(out)
