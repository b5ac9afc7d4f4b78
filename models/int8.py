"""INT8 rewrites of an ONNX graph, with python3-onnx and numpy only (no onnxruntime.quantization here).

Two rewrites, one per kind of tower:

- static (QDQ around Conv): every Conv input and output gets QuantizeLinear -> DequantizeLinear with uint8
  asymmetric parameters from calibrated ranges; weights int8, symmetric, per output channel; the bias int32 at
  scale x_scale * w_scale[c]. ONNX Runtime fuses DQ -> Conv -> Q into QLinearConv. A Conv whose only consumer is a
  Relu is quantised after the Relu (zero point 0), so Runtime drops the Relu into the Conv.
- dynamic (MatMul and Gemm with a constant weight): DynamicQuantizeLinear on the activation (per tensor, at run
  time) -> MatMulInteger with int8 weights, symmetric, per output column -> Cast -> Mul by x_scale * w_scale. The
  shape onnxruntime.quantization writes, which Runtime fuses into DynamicQuantizeMatMul.

Every function is deterministic: the same graph and ranges give the same bytes.
"""
import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

QMAX = 127  # symmetric int8 weights: [-127, 127], so that -w quantises to -q


def weight_scales(w, axis):
    """Per-channel symmetric scales (float32) along axis, and the int8 weights."""
    other = tuple(i for i in range(w.ndim) if i != axis)
    peak = np.abs(w).max(axis=other) if other else np.abs(w)
    scales = np.where(peak > 0, peak / QMAX, 1.0).astype(np.float32)
    shape = [1] * w.ndim
    shape[axis] = -1
    q = np.clip(np.round(w / scales.reshape(shape)), -QMAX, QMAX).astype(np.int8)
    return scales, q


def activation_params(low, high):
    """uint8 asymmetric scale and zero point covering [low, high] and 0 (so that 0 is exact)."""
    low, high = min(0.0, float(low)), max(0.0, float(high))
    scale = np.float32((high - low) / 255.0) if high > low else np.float32(1.0)
    zero = np.uint8(np.clip(np.round(-low / scale), 0, 255))
    return scale, zero


class Rewriter:
    """A graph being rewritten: its initializers by name, new nodes and initializers, fresh names."""

    def __init__(self, model):
        self.model = model
        self.graph = model.graph
        self.inits = {t.name: t for t in self.graph.initializer}
        self.added = []
        self.count = 0

    def name(self, stem):
        self.count += 1
        return f"{stem}_q{self.count}"

    def const(self, stem, array):
        name = self.name(stem)
        self.added.append(numpy_helper.from_array(np.asarray(array), name))
        return name

    def array(self, name):
        return numpy_helper.to_array(self.inits[name]) if name in self.inits else None

    def finish(self, nodes):
        """Replaces the node list (kept in a valid order by the caller), drops unused initializers."""
        del self.graph.node[:]
        self.graph.node.extend(nodes)
        used = {i for n in self.graph.node for i in n.input} | {o.name for o in self.graph.output}
        kept = [t for t in list(self.graph.initializer) + self.added if t.name in used]
        del self.graph.initializer[:]
        self.graph.initializer.extend(kept)
        names = {t.name for t in kept}
        kept_inputs = [i for i in self.graph.input if i.name not in self.inits or i.name in names]
        del self.graph.input[:]
        self.graph.input.extend(kept_inputs)


def conv_outputs(model):
    """The tensors a static rewrite quantises: each Conv's input, and its output (after a lone Relu)."""
    graph = model.graph
    outputs = {o.name for o in graph.output}
    tensors = []
    for node in graph.node:
        if node.op_type != "Conv":
            continue
        tensors.append(node.input[0])
        out = node.output[0]
        users = [n for n in graph.node if out in n.input]
        if len(users) == 1 and users[0].op_type == "Relu" and out not in outputs:
            out = users[0].output[0]
        tensors.append(out)
    return list(dict.fromkeys(tensors))


def calibration_model(model):
    """The same graph with every tensor conv_outputs names also a graph output, for a calibration run."""
    copy = onnx.ModelProto()
    copy.CopyFrom(model)
    present = {o.name for o in copy.graph.output}
    for name in conv_outputs(model):
        if name not in present:
            copy.graph.output.append(helper.make_tensor_value_info(name, TensorProto.FLOAT, None))
    return copy


def quantize_static_conv(model, ranges):
    """QDQ around every Conv with a constant weight; ranges: tensor name -> (min, max) from calibration."""
    r = Rewriter(model)
    quantised = {}  # float tensor -> its dequantised twin, and the activation scale
    tensors = set(conv_outputs(model))
    missing = sorted(t for t in tensors if t not in ranges)
    if missing:
        raise ValueError(f"no calibrated range for {len(missing)} tensors, e.g. {missing[0]}")
    nodes = []

    def qdq(tensor):
        scale, zero = activation_params(*ranges[tensor])
        s, z = r.const(tensor + "_scale", scale), r.const(tensor + "_zero", zero)
        q, dq = r.name(tensor + "_quantized"), r.name(tensor + "_dequantized")
        nodes.append(helper.make_node("QuantizeLinear", [tensor, s, z], [q], name=r.name("QuantizeLinear")))
        nodes.append(helper.make_node("DequantizeLinear", [q, s, z], [dq], name=r.name("DequantizeLinear")))
        quantised[tensor] = (dq, scale)

    for tensor in (i.name for i in model.graph.input):
        if tensor in tensors:
            qdq(tensor)
    for node in model.graph.node:
        node = _renamed_inputs(node, quantised)
        if node.op_type == "Conv" and r.array(node.input[1]) is not None:
            x_scale = {dq: scale for dq, scale in quantised.values()}[node.input[0]]
            w_scales, w_q = weight_scales(r.array(node.input[1]), axis=0)
            w = r.name(node.input[1] + "_dequantized")
            nodes.append(helper.make_node("DequantizeLinear", [r.const(node.input[1] + "_int8", w_q), r.const(node.input[1] + "_scale", w_scales),
                                                              r.const(node.input[1] + "_zero", np.zeros(len(w_scales), np.int8))], [w], axis=0, name=r.name("DequantizeLinear")))
            inputs = [node.input[0], w]
            if len(node.input) > 2 and node.input[2]:
                b_scales = (np.float32(x_scale) * w_scales).astype(np.float32)
                b_q = np.clip(np.round(r.array(node.input[2]) / b_scales), -2**31, 2**31 - 1).astype(np.int32)
                b = r.name(node.input[2] + "_dequantized")
                nodes.append(helper.make_node("DequantizeLinear", [r.const(node.input[2] + "_int32", b_q), r.const(node.input[2] + "_scale", b_scales),
                                                                  r.const(node.input[2] + "_zero", np.zeros(len(b_scales), np.int32))], [b], axis=0, name=r.name("DequantizeLinear")))
                inputs.append(b)
            copy = onnx.NodeProto()
            copy.CopyFrom(node)
            del copy.input[:]
            copy.input.extend(inputs)
            node = copy
        nodes.append(node)
        for out in node.output:
            if out in tensors:
                qdq(out)
    r.finish(nodes)
    return model


def _renamed_inputs(node, quantised):
    if not any(i in quantised for i in node.input):
        return node
    copy = onnx.NodeProto()
    copy.CopyFrom(node)
    for k, i in enumerate(copy.input):
        if i in quantised:
            copy.input[k] = quantised[i][0]
    return copy


def quantize_dynamic_matmul(model):
    """DynamicQuantizeLinear + MatMulInteger for every MatMul (and plain Gemm) whose weight is a 2-D constant."""
    r = Rewriter(model)
    dynamic = {}  # activation -> (uint8 tensor, scale, zero point), one DynamicQuantizeLinear per activation
    nodes = []
    for node in model.graph.node:
        weight = _constant_weight(r, node)
        if weight is None:
            nodes.append(node)
            continue
        x, w = node.input[0], weight
        if x not in dynamic:
            names = (r.name(x + "_quantized"), r.name(x + "_scale"), r.name(x + "_zero"))
            nodes.append(helper.make_node("DynamicQuantizeLinear", [x], list(names), name=r.name("DynamicQuantizeLinear")))
            dynamic[x] = names
        xq, xs, xz = dynamic[x]
        w_scales, w_q = weight_scales(w, axis=1)
        stem = node.output[0]
        product, as_float, scale = r.name(stem + "_int32"), r.name(stem + "_float"), r.name(stem + "_scale")
        out = r.name(stem + "_unbiased") if node.op_type == "Gemm" and len(node.input) > 2 else node.output[0]
        nodes += [
            helper.make_node("MatMulInteger", [xq, r.const(stem + "_weight_int8", w_q), xz, r.const(stem + "_weight_zero", np.zeros(w.shape[1], np.int8))],
                             [product], name=r.name("MatMulInteger")),
            helper.make_node("Cast", [product], [as_float], to=TensorProto.FLOAT, name=r.name("Cast")),
            helper.make_node("Mul", [xs, r.const(stem + "_weight_scale", w_scales)], [scale], name=r.name("Mul")),
            helper.make_node("Mul", [as_float, scale], [out], name=r.name("Mul")),
        ]
        if out != node.output[0]:
            nodes.append(helper.make_node("Add", [out, node.input[2]], [node.output[0]], name=r.name("Add")))
    r.finish(nodes)
    return model


def _constant_weight(r, node):
    """The [K, N] weight of a MatMul or Gemm this rewrite handles, else None."""
    if node.op_type not in ("MatMul", "Gemm") or len(node.input) < 2:
        return None
    w = r.array(node.input[1])
    if w is None or w.ndim != 2 or w.dtype != np.float32:
        return None
    if node.op_type == "Gemm":
        attrs = {a.name: helper.get_attribute_value(a) for a in node.attribute}
        if attrs.get("alpha", 1.0) != 1.0 or attrs.get("beta", 1.0) != 1.0 or attrs.get("transA", 0):
            return None
        if attrs.get("transB", 0):
            w = w.T
    return np.ascontiguousarray(w)
