"""Export a model file to ONNX (the onnx extra), with its standardisation built into the graph."""
from __future__ import annotations

NAME = "export"
HELP = "export a model file to ONNX"
EXAMPLE = """example:
  glassnet export model.npz model.onnx"""


def add_arguments(p) -> None:
    p.add_argument("model", help="a glassnet model file")
    p.add_argument("onnx", help="the .onnx file to write")


def run(args) -> int:
    from ..modelfile import load_model
    from ..onnx_export import export_onnx

    export_onnx(load_model(args.model), args.onnx)
    print(f"wrote {args.onnx}")
    return 0
