"""Explain a training step number by number (faces floor): the seed examples, or one step of a saved model on a sample.

Units are numbered from 1 as in the seeds (x1, x2 inputs; z1, z2 hidden units; ŷ1, ŷ2 outputs); the bias is
written as a unit fixed at 1 and named as a bias (x0 and z0 as in seed 003, z<layer>_bias in deeper networks).
"""
from __future__ import annotations

from .common import constrained, sample_index

NAME = "explain"
HELP = "every number of a training step (the seed examples: xor-article, dog-breeds)"
EXAMPLE = """examples:
  glassnet explain xor-article                      # seed 003's XOR step, corrected, with numbers
  glassnet explain dog-breeds --format markdown     # seed 000's 625-20-20-10 network, summarised
  glassnet explain --model model.npz --sample 2 --learning-rate 0.1"""


def add_arguments(p) -> None:
    from ..examples import EXAMPLES

    p.add_argument("example", nargs="?", choices=sorted(EXAMPLES), help="a seed example (or give --model)")
    p.add_argument("--model", help="trace one step of this model file instead of a seed example")
    p.add_argument("--dataset", help="with --model: dataset name or file to take the sample from "
                                     "(default: the model's own, read with its stored target column)")
    p.add_argument("--sample", type=sample_index, help="with --model: row number of the sample, from 0 "
                                                           "(default 0)")
    p.add_argument("--learning-rate", type=constrained("learning_rate"),
                   help="with --model: the step's learning rate (default 0.1; the seed examples use their own)")
    p.add_argument("--format", default="text", choices=["text", "markdown", "html"], help="output format")


def run(args) -> int:
    from ..errors import ConfigError
    from ..examples import explain

    if args.model and args.example:
        raise ConfigError(f"give either a seed example ({args.example}) or --model FILE, not both")
    if args.model:
        document = _model_step(args)
    elif args.example:
        given = [option for option, value in (("--dataset", args.dataset), ("--sample", args.sample),
                                              ("--learning-rate", args.learning_rate)) if value is not None]
        if given:
            raise ConfigError(f"{', '.join(given)} only apply with --model; the seed examples use their own data")
        document = explain(args.example)
    else:
        raise ConfigError("name a seed example (xor-article, dog-breeds) or give --model FILE")
    print(document.render(args.format))
    return 0


def _model_step(args):
    from ..errors import ConfigError
    from ..modelfile import load_model
    from ..workflow import data_for, split_of

    model = load_model(args.model)
    X, y = data_for(model, args.dataset) if args.dataset else split_of(model, "all")  # built-in sets only
    sample = args.sample or 0
    if not 0 <= sample < X.shape[0]:
        raise ConfigError(f"--sample must be in 0..{X.shape[0] - 1}, got {sample}")
    x = model.prepare(X[sample:sample + 1])
    learning_rate = 0.1 if args.learning_rate is None else args.learning_rate
    return model.network.trace(x, y[sample:sample + 1], learning_rate).document()
