"""Export a model file to ONNX (the onnx extra), with its standardisation built into the graph (faces floor).

The target must end in .onnx and must not be a glassnet model or checkpoint file (`--force` overrides both),
so a slip like `glassnet export model.npz model.npz` cannot overwrite the model.
"""
from __future__ import annotations

NAME = "export"
HELP = "export a model file to ONNX"
EXAMPLE = """example:
  glassnet export model.npz model.onnx"""


def add_arguments(p) -> None:
    p.add_argument("model", help="a glassnet model file")
    p.add_argument("onnx", help="the .onnx file to write")
    p.add_argument("--force", action="store_true",
                   help="write even if the target lacks .onnx or is a glassnet model file")


def run(args) -> int:
    from ..modelfile import load_model
    from ..onnx_export import export_onnx
    from ..workflow import check_export_target

    model = load_model(args.model)
    if not args.force:
        check_export_target(args.model, args.onnx)
    export_onnx(model, args.onnx)
    print(f"wrote {args.onnx}")
    return 0
