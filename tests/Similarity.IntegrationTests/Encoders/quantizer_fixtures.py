#!/usr/bin/python3
"""Tiny graphs for QuantizerTests: each written FP32 and quantised by models/int8.py, with inputs and the float
outputs of an independent numpy forward pass (reference.json), seeded.

  conv:   x [2,3,9,9] -> Conv 3x3 pad 1 (+bias) -> Relu -> Conv 3x3 stride 2 (+bias) -> y    static QDQ, ranges
          from numpy on 16 other inputs of the same distribution
  matmul: a [2,5,16] -> MatMul [16,12] -> Add bias -> y;  b [4,16] -> Gemm transB [12,16] + C -> z    dynamic

It also checks the rewrite's shape: every Conv/MatMul/Gemm weight is stored int8, none float.
"""
import json
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "..", "models"))
import int8  # noqa: E402

rng = np.random.default_rng(20261206)


def conv(x, w, b, stride, pad):
    n, c, h, wd = x.shape
    k = w.shape[2]
    x = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    oh, ow = (h + 2 * pad - k) // stride + 1, (wd + 2 * pad - k) // stride + 1
    out = np.zeros((n, w.shape[0], oh, ow), np.float64)
    for i in range(oh):
        for j in range(ow):
            patch = x[:, :, i * stride:i * stride + k, j * stride:j * stride + k]
            out[:, :, i, j] = np.einsum("nckl,ockl->no", patch, w)
    return out + b.reshape(1, -1, 1, 1)


def conv_case(out):
    w1, b1 = rng.normal(0, 0.3, (4, 3, 3, 3)).astype(np.float32), rng.normal(0, 0.1, 4).astype(np.float32)
    w2, b2 = rng.normal(0, 0.3, (5, 4, 3, 3)).astype(np.float32), rng.normal(0, 0.1, 5).astype(np.float32)
    # Per-channel weights matter: one output channel ten times smaller than the others.
    w2[3] *= 0.1
    graph = helper.make_graph([
        helper.make_node("Conv", ["x", "w1", "b1"], ["c1"], pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["c1"], ["r1"]),
        helper.make_node("Conv", ["r1", "w2", "b2"], ["y"], strides=[2, 2]),
    ], "conv", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [None, 3, 9, 9])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [None, 5, 4, 4])],
        [numpy_helper.from_array(a, n) for a, n in ((w1, "w1"), (b1, "b1"), (w2, "w2"), (b2, "b2"))])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])

    def forward(x):
        r1 = np.maximum(conv(x, w1, b1, 1, 1), 0)
        return {"x": x, "r1": r1, "y": conv(r1, w2, b2, 2, 0)}

    calibration = forward(rng.normal(0, 1, (16, 3, 9, 9)))
    ranges = {t: (float(v.min()), float(v.max())) for t, v in calibration.items()}
    x = rng.normal(0, 1, (2, 3, 9, 9)).astype(np.float32)
    return model, int8.quantize_static_conv(clone(model), ranges), {"x": x}, {"y": forward(x.astype(np.float64))["y"]}


def matmul_case(out):
    w, bias = rng.normal(0, 0.2, (16, 12)).astype(np.float32), rng.normal(0, 0.1, 12).astype(np.float32)
    g, c = rng.normal(0, 0.2, (12, 16)).astype(np.float32), rng.normal(0, 0.1, 12).astype(np.float32)
    w[:, 5] *= 0.05  # a small column: per-column scales keep it
    graph = helper.make_graph([
        helper.make_node("MatMul", ["a", "w"], ["m"]),
        helper.make_node("Add", ["m", "bias"], ["y"]),
        helper.make_node("Gemm", ["b", "g", "c"], ["z"], transB=1),
    ], "matmul", [helper.make_tensor_value_info("a", TensorProto.FLOAT, [2, 5, 16]), helper.make_tensor_value_info("b", TensorProto.FLOAT, [4, 16])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [2, 5, 12]), helper.make_tensor_value_info("z", TensorProto.FLOAT, [4, 12])],
        [numpy_helper.from_array(t, n) for t, n in ((w, "w"), (bias, "bias"), (g, "g"), (c, "c"))])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    a, b = rng.normal(0, 1, (2, 5, 16)).astype(np.float32), rng.normal(0, 1, (4, 16)).astype(np.float32)
    expected = {"y": a.astype(np.float64) @ w + bias, "z": b.astype(np.float64) @ g.T.astype(np.float64) + c}
    return model, int8.quantize_dynamic_matmul(clone(model)), {"a": a, "b": b}, expected


def clone(model):
    copy = onnx.ModelProto()
    copy.CopyFrom(model)
    return copy


def check_weights_are_int8(model):
    inits = {t.name: t for t in model.graph.initializer}
    for node in model.graph.node:
        if node.op_type in ("Conv", "MatMul", "Gemm") and len(node.input) > 1 and node.input[1] in inits:
            raise SystemExit(f"{node.op_type} {node.name} still reads a float weight {node.input[1]}")
    if not any(t.data_type == TensorProto.INT8 for t in inits.values()):
        raise SystemExit("no int8 weight in the quantised graph")


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    reference = {}
    for name, case in (("conv", conv_case), ("matmul", matmul_case)):
        fp32, quantised, inputs, outputs = case(out)
        onnx.checker.check_model(quantised)
        check_weights_are_int8(quantised)
        onnx.save(fp32, os.path.join(out, f"{name}-fp32.onnx"))
        onnx.save(quantised, os.path.join(out, f"{name}-int8.onnx"))
        reference[name] = {
            "inputs": {k: {"shape": list(v.shape), "data": v.ravel().tolist()} for k, v in inputs.items()},
            "outputs": {k: {"shape": list(v.shape), "data": v.ravel().tolist()} for k, v in outputs.items()},
        }
    json.dump(reference, open(os.path.join(out, "reference.json"), "w"))


if __name__ == "__main__":
    main()
