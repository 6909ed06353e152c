"""Evaluate a saved model (faces floor): loss and accuracy on a dataset, or on the test split it was trained with.

Data is read through the model's contract: a CSV with a header row is matched to the model's features by
column name, and its labels are mapped through the model's classes (a label the model does not know is an
error that names it). Without --target, the model's own target column is used when the file has it; a CSV
without a header row has its target in the last column.
"""
from __future__ import annotations

from .common import add_output_flags

NAME = "evaluate"
HELP = "loss and accuracy of a model file on data"
EXAMPLE = """examples:
  glassnet evaluate model.npz                       # the test split of the model's own training run
  glassnet evaluate model.npz --split all           # every row of the model's own dataset
  glassnet evaluate model.npz --dataset data.csv --split test   # the test rows of the file it was trained on
  glassnet evaluate model.npz --dataset other.csv --target label"""


def add_arguments(p) -> None:
    p.add_argument("model", help="a glassnet model file")
    p.add_argument("--dataset", help="dataset name or file (default: the model's own dataset, regenerated if it is "
                   "built in; a file it was trained on must be named here: a model file never makes glassnet "
                   "open another file)")
    p.add_argument("--target", help="target column of a CSV/NPY file (default: the model's target column)")
    p.add_argument("--split", choices=["train", "validation", "test", "all"],
                   help="which split of the model's own dataset (default: test, or train when the run held "
                        "nothing out, as for xor). With --dataset the default is every row; --split then cuts the "
                        "file as the training run cut it, refused unless it is the same data (the fingerprint in "
                        "the model file)")
    add_output_flags(p)


def run(args) -> int:
    from ..errors import ConfigError
    from ..modelfile import load_model
    from ..workflow import data_for, evaluation_data, file_split, settings_of
    from .common import emit

    if args.target and args.split:
        raise ConfigError("--split cuts the data as the model's training run did, with its own target column; "
                          "leave out --target")
    if args.target and not args.dataset:
        raise ConfigError("--target applies to a file given with --dataset; the model's own data uses its "
                          "stored target column")
    model = load_model(args.model)
    if args.dataset and args.split:  # the file the user names, cut as the training run cut it (checked)
        X, y, where = file_split(model, args.dataset, args.split)
    elif args.dataset:
        X, y = data_for(model, args.dataset, args.target)
        where = f"{args.dataset} (every row; the rows a training run held out: --split test)"
    else:  # only a built-in dataset is regenerated; a path recorded in the model file is never opened
        split = args.split or ("test" if settings_of(model).test_fraction else "train")
        X, y, where = evaluation_data(model, split)
    metrics = model.evaluate(X, y)
    result = {"model": args.model, "data": where, "samples": int(X.shape[0]), **metrics}
    text = f"{where}: {X.shape[0]} samples, loss {metrics['loss']:.4f}" + (
        f", accuracy {metrics['accuracy']:.2%}" if "accuracy" in metrics else "")
    emit(result, args.json, text)
    return 0
