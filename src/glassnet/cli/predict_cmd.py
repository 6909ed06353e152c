"""Predict with a saved model: one line per sample (class label or value), or probabilities with --proba."""
from __future__ import annotations

import numpy as np

from .common import add_output_flags

NAME = "predict"
HELP = "predictions of a model file for new samples"
EXAMPLE = """examples:
  glassnet predict model.npz samples.csv            # a CSV of feature columns with a header row
  glassnet predict model.npz samples.npy --proba --json"""


def add_arguments(p) -> None:
    p.add_argument("model", help="a glassnet model file")
    p.add_argument("input", help="features: a .csv with a header row, a .npy (n_samples, n_features) or .npz with X")
    p.add_argument("--proba", action="store_true", help="print class probabilities instead of labels")
    add_output_flags(p)


def run(args) -> int:
    from ..data import load_features
    from ..modelfile import load_model
    from .common import emit

    model = load_model(args.model)
    X = load_features(args.input)
    if args.proba:
        values = model.predict_proba(X)
        result = {"probabilities": values.tolist(), "class_labels": model.class_labels}
        text = "\n".join(",".join(f"{p:.6f}" for p in row) for row in values)
    else:
        values = model.predict(X)
        result = {"predictions": [v if isinstance(v, str) else (v.tolist() if hasattr(v, "tolist") else v)
                                  for v in values]}
        text = "\n".join(str(v if np.ndim(v) == 0 else ",".join(f"{u:.6g}" for u in v)) for v in values)
    emit(result, args.json, text)
    return 0
