"""Export a model to ONNX (files floor; the ``onnx`` extra): input "x" (n, n_features) -> output "y".

The graph is: optional standardisation (Sub, Div) -> per layer MatMul, Add, activation. The output is the
network's output (class probabilities for softmax / sigmoid outputs), in the model's dtype.
"""
from __future__ import annotations

import numpy as np

from .errors import ConfigError, warn
from .modelfile import Model, atomic_write
from .network import Network

OPSET = 17
#: operators onnxruntime (1.32) implements for float32 only: a float64 file with one is refused at load
NO_DOUBLE_IN_ONNXRUNTIME = ("Softplus",)


def to_onnx(model: Model | Network):
    """The model (or a bare network) as an in-memory ``onnx.ModelProto`` (opset 17): optional standardisation,
    then MatMul, Add and the activation per layer; checked with ``onnx.checker``. Raises ConfigError without
    the onnx package, for an activation ONNX lacks, or for anything but a Model or a Network.
    """
    if isinstance(model, Network):
        model = Model(model)
    if not isinstance(model, Model):
        raise ConfigError(f"ONNX export takes a glassnet Model or Network, got {type(model).__name__}")
    try:
        import onnx
        from onnx import TensorProto, helper, numpy_helper
    except ImportError:  # pragma: no cover
        raise ConfigError("ONNX export needs the onnx package: pip install 'glassnet[onnx]'") from None
    network = model.network
    dtype = network.dtype
    elem = TensorProto.FLOAT if dtype == np.float32 else TensorProto.DOUBLE
    nodes, initializers, current = [], [], "x"
    if model.standardizer is not None:
        initializers += [numpy_helper.from_array(model.standardizer.mean.astype(dtype), "mean"),
                         numpy_helper.from_array(model.standardizer.std.astype(dtype), "std")]
        nodes += [helper.make_node("Sub", ["x", "mean"], ["centred"]),
                  helper.make_node("Div", ["centred", "std"], ["standardised"])]
        current = "standardised"
    for index, (layer, (W, b)) in enumerate(zip(network.layers, zip(*[iter(network.get_weights())] * 2)), start=1):
        initializers += [numpy_helper.from_array(W, f"W{index}"), numpy_helper.from_array(b, f"b{index}")]
        target = "y" if index == len(network.layers) else f"z{index}"
        nodes += [helper.make_node("MatMul", [current, f"W{index}"], [f"xw{index}"]),
                  helper.make_node("Add", [f"xw{index}", f"b{index}"], [f"a{index}"])]
        operator, attributes = layer.activation.onnx_node()  # each activation names its own ONNX node
        if operator in NO_DOUBLE_IN_ONNXRUNTIME and elem == TensorProto.DOUBLE:
            warn(f"glassnet: layer {index}'s {operator} in float64 is valid ONNX, but onnxruntime has no float64 "
                 f"{operator} and will not load the file; a float32 network exports one it loads")
        nodes.append(helper.make_node(operator, [f"a{index}"], [target], **attributes))
        current = target
    graph = helper.make_graph(nodes, "glassnet", [helper.make_tensor_value_info("x", elem, [None, network.n_inputs])],
                              [helper.make_tensor_value_info("y", elem, [None, network.n_outputs])], initializers)
    onnx_model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="glassnet")
    onnx_model.ir_version = min(onnx_model.ir_version, 9)
    onnx.checker.check_model(onnx_model)
    return onnx_model


def export_onnx(model: Model | Network, path: str) -> None:
    """Write ``model`` (a Model, or a bare Network) as an ONNX file at ``path`` (atomically)."""
    atomic_write(path, to_onnx(model).SerializeToString())
