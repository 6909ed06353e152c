"""Summarise a model file (faces floor): architecture, sizes, its data contract (features, target, classes, preprocessing)
and how it was trained."""
from __future__ import annotations

from .common import add_output_flags

NAME = "info"
HELP = "a model file's summary"
EXAMPLE = """example:
  glassnet info model.npz --json"""
#: feature names listed in the text summary before "and N more"
FEATURES_SHOWN = 8


def add_arguments(p) -> None:
    p.add_argument("model", help="a glassnet model file")
    add_output_flags(p)


def run(args) -> int:
    from ..modelfile import describe
    from .common import emit

    info = describe(args.model)
    text = "\n".join([
        info["network"],
        f"task {info['task']}, {info['n_features']} features, dtype {info['dtype']}, "
        f"standardised inputs: {'yes' if info['standardize'] else 'no'}",
        _features_line(info["feature_names"], info["target"]),
        f"classes: {', '.join(map(str, info['class_labels']))}" if info["class_labels"] else "classes: -",
        _training_line(info["training"]),
    ])
    emit(info, args.json, text)
    return 0


def _features_line(names: list, target) -> str:
    shown = ", ".join(map(str, names[:FEATURES_SHOWN])) + (f" and {len(names) - FEATURES_SHOWN} more"
                                                          if len(names) > FEATURES_SHOWN else "")
    return f"features: {shown or 'not named (given by position)'}; target column: {target or '-'}"


def _training_line(training: dict) -> str:
    if "estimator" in training:  # written by the scikit-learn wrapper's save()
        params = training.get("params", {})
        settings = ", ".join(f"{k}={params[k]}" for k in sorted(params) if params[k] is not None)
        return f"saved by the scikit-learn wrapper {training['estimator']}" + (f" ({settings})" if settings else "")
    if "dataset" not in training:
        return "training settings: not recorded"
    return (f"trained by `glassnet train` on {training['dataset']} with {training.get('optimizer')} "
            f"(learning rate {training.get('learning_rate')}) for {training.get('epochs_run')} epochs")
