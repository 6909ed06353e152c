"""Summarise a model file: architecture, sizes, classes, preprocessing and how it was trained."""
from __future__ import annotations

from .common import add_output_flags

NAME = "info"
HELP = "a model file's summary"
EXAMPLE = """example:
  glassnet info model.npz --json"""


def add_arguments(p) -> None:
    p.add_argument("model", help="a glassnet model file")
    add_output_flags(p)


def run(args) -> int:
    from ..modelfile import describe
    from .common import emit

    info = describe(args.model)
    training = info["training"]
    text = "\n".join([
        info["network"],
        f"task {info['task']}, {info['n_features']} features, dtype {info['dtype']}, "
        f"standardised inputs: {'yes' if info['standardize'] else 'no'}",
        f"classes: {', '.join(map(str, info['class_labels']))}" if info["class_labels"] else "classes: -",
        f"trained on {training.get('dataset', '?')} with {training.get('optimizer', '?')} "
        f"(learning rate {training.get('learning_rate', '?')}) for {training.get('epochs_run', '?')} epochs"
        if training else "training settings: not recorded",
    ])
    emit(info, args.json, text)
    return 0
