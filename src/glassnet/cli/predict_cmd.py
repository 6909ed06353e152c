"""Predict with a saved model (faces floor): one line per sample (class label or value), or probabilities with --proba.

A CSV with a header row is matched to the model's features by column name, in any order (the model's
target column may be present and is ignored; a missing or unknown column is an error naming it). A .npy,
an .npz or a CSV without a header row is taken by position and must have exactly the model's features.
Class labels come back with the type they had in the training data (7 stays 7, "big" stays "big").
"""
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
    p.add_argument("input", help="features: a .csv (with a header row, matched by name), a .npy (n_samples, "
                                 "n_features) or an .npz with X")
    p.add_argument("--proba", action="store_true",
                   help="print class probabilities instead of labels, after a header line naming the classes")
    add_output_flags(p)


def run(args) -> int:
    from ..workflow import features_for, probability_columns
    from .common import emit

    model = _load(args.model)
    X = features_for(model, args.input)
    if args.proba:
        values = model.predict_proba(X)
        columns = probability_columns(model)
        result = {"columns": columns, "probabilities": values.tolist(), "class_labels": model.class_labels}
        text = "\n".join([",".join(f"P({c})" for c in columns)] + [",".join(f"{p:.6f}" for p in row) for row in values])
    else:
        values = model.predict(X)
        result = {"predictions": [v.tolist() if hasattr(v, "tolist") else v for v in values]}
        text = "\n".join(str(v if np.ndim(v) == 0 else ",".join(f"{u:.6g}" for u in v)) for v in values)
    emit(result, args.json, text)
    return 0


def _load(path: str):
    """The model file, with a hint when it looks like the features were given first."""
    from ..errors import ModelFileError
    from ..modelfile import load_model

    try:
        return load_model(path)
    except ModelFileError as error:
        if path.lower().endswith((".csv", ".npy", ".txt", ".tsv")):
            raise ModelFileError(f"{error} (the model file comes first: glassnet predict MODEL INPUT)") from None
        raise
