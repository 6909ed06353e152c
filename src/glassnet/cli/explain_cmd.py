"""Explain a training step number by number: the seed examples, or one step of a saved model on a sample."""
from __future__ import annotations

NAME = "explain"
HELP = "every number of a training step (the seed examples: xor-article, dog-breeds)"
EXAMPLE = """examples:
  glassnet explain xor-article                      # seed 003's XOR step, corrected, with numbers
  glassnet explain dog-breeds --format markdown     # seed 000's 625-20-20-10 network, summarised
  glassnet explain --model model.npz --dataset xor --sample 2 --learning-rate 0.1"""


def add_arguments(p) -> None:
    from ..examples import EXAMPLES

    p.add_argument("example", nargs="?", choices=sorted(EXAMPLES), help="a seed example")
    p.add_argument("--model", help="trace one step of this model file instead")
    p.add_argument("--dataset", help="with --model: dataset to take the sample from (default: the model's)")
    p.add_argument("--sample", type=int, default=0, help="with --model: index of the sample (default 0)")
    p.add_argument("--learning-rate", type=float, default=0.1)
    p.add_argument("--format", default="text", choices=["text", "markdown", "html"])


def run(args) -> int:
    from ..errors import ConfigError
    from ..examples import explain

    if args.model:
        document = _model_step(args)
    elif args.example:
        document = explain(args.example)
    else:
        raise ConfigError("name a seed example (xor-article, dog-breeds) or give --model FILE")
    print(document.render(args.format))
    return 0


def _model_step(args):
    from .. import data
    from ..errors import ConfigError
    from ..modelfile import load_model

    model = load_model(args.model)
    recorded = model.training.get("dataset", "")
    if not args.dataset and not data.is_builtin(recorded):  # never open a path named inside a model file
        raise ConfigError(f"the model records its training data as {recorded!r}, not a built-in dataset; "
                          f"pass --dataset")
    dataset = data.load(args.dataset or recorded)
    if not 0 <= args.sample < dataset.X.shape[0]:
        raise ConfigError(f"--sample must be in 0..{dataset.X.shape[0] - 1}, got {args.sample}")
    x = model.prepare(dataset.X[args.sample:args.sample + 1])
    return model.network.trace(x, dataset.y[args.sample:args.sample + 1], args.learning_rate).document()
