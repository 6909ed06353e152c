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
    p.add_argument("--dataset", help="dataset name or file (default: the model's own dataset)")
    p.add_argument("--target", help="target column of a CSV/NPY file")
    p.add_argument("--split", default="test", choices=["train", "validation", "test", "all"],
                   help="with the model's own dataset: which split (default test)")
    add_output_flags(p)


def run(args) -> int:
    from .. import data
    from ..modelfile import load_model
    from ..workflow import split_of
    from .common import emit

    model = load_model(args.model)
    if args.dataset:
        dataset = data.load_file(args.dataset, args.target) if args.target else data.load(args.dataset)
        X, y = dataset.X, dataset.y
        where = args.dataset
    elif args.split == "all":
        dataset = data.load(model.training["dataset"], seed=model.training.get("seed", 0),
                            n_samples=model.training.get("n_samples"))
        X, y, where = dataset.X, dataset.y, model.training["dataset"]
    else:
        X, y = split_of(model, args.split)
        where = f"{model.training.get('dataset')} ({args.split} split)"
    metrics = model.evaluate(X, y)
    result = {"model": args.model, "data": where, "samples": int(X.shape[0]), **metrics}
    text = f"{where}: {X.shape[0]} samples, loss {metrics['loss']:.4f}" + (
        f", accuracy {metrics['accuracy']:.2%}" if "accuracy" in metrics else "")
    emit(result, args.json, text)
    return 0
