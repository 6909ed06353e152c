"""Evaluate a saved model: loss and accuracy on a dataset, or on the test split it was trained with."""
from __future__ import annotations

from .common import add_output_flags

NAME = "evaluate"
HELP = "loss and accuracy of a model file on data"
EXAMPLE = """examples:
  glassnet evaluate model.npz                       # the test split of the model's own training run
  glassnet evaluate model.npz --dataset other.csv --target label"""


def add_arguments(p) -> None:
    p.add_argument("model", help="a glassnet model file")
    p.add_argument("--dataset", help="dataset name or file (default: the model's own dataset, regenerated if it is "
                   "built in; a file it was trained on must be named here)")
    p.add_argument("--target", help="target column of a CSV/NPY file")
    p.add_argument("--split", default="test", choices=["train", "validation", "test", "all"],
                   help="with the model's own dataset: which split (default test)")
    add_output_flags(p)


def run(args) -> int:
    from .. import data
    from ..modelfile import load_model
    from ..workflow import evaluation_data
    from .common import emit

    model = load_model(args.model)
    if args.dataset:
        dataset = data.load_file(args.dataset, args.target) if args.target else data.load(args.dataset)
        X, y, where = dataset.X, dataset.y, args.dataset
    else:  # only a built-in dataset is regenerated; a path named in the model file is never opened
        X, y, where = evaluation_data(model, args.split)
    metrics = model.evaluate(X, y)
    result = {"model": args.model, "data": where, "samples": int(X.shape[0]), **metrics}
    text = f"{where}: {X.shape[0]} samples, loss {metrics['loss']:.4f}" + (
        f", accuracy {metrics['accuracy']:.2%}" if "accuracy" in metrics else "")
    emit(result, args.json, text)
    return 0
