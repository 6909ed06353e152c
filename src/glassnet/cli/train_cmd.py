"""Train a network on a dataset, report its accuracy, and save it as a model file (faces floor).

The defaults train the seeds' 625-20-20-10 network (sigmoid hidden units, softmax output) on digits25,
the 1,797 scikit-learn digits resized to 25x25 pixels, and reach about 95-96 % test accuracy in about a second.
"""
from __future__ import annotations

from ..activations import ACTIVATIONS
from ..compiled import ENGINES
from ..costs import COSTS
from ..optimizers import OPTIMIZERS
from ..schedules import SCHEDULES
from .common import (add_output_flags, check_plotting_available, check_writable_file, check_writable_folder,
                     constrained, fraction, layer_sizes, positive_int)

NAME = "train"
HELP = "train a network on a dataset and save the model"
EXAMPLE = """examples:
  glassnet train                                   # 625-20-20-10 on digits25, model saved to model.npz
  glassnet train --dataset moons --layers 16,16 --activation tanh --epochs 200 --plots plots/
  glassnet train --dataset data.csv --target label --layers 64 --optimizer sgd --learning-rate 0.1 --json
  glassnet train --epochs 500 --checkpoint run.ckpt --checkpoint-every 10   # Ctrl-C saves and says how to resume
  glassnet train --resume run.ckpt --out model.npz                          # continue exactly where it stopped"""


def add_arguments(p) -> None:
    p.add_argument("--dataset", default="digits25", help="dataset name (see `glassnet datasets`) or a .csv/.npz/.npy path")
    p.add_argument("--target", help="target column of a CSV/NPY file (name or index; default: the last)")
    p.add_argument("--task", default="auto", choices=["auto", "classification", "regression"],
                   help="auto: classification for text or whole-number targets, regression otherwise")
    p.add_argument("--samples", type=positive_int, help="number of samples for generated datasets")
    p.add_argument("--layers", type=layer_sizes, default=(20, 20), help="hidden layer sizes, e.g. 20,20; none for no hidden layer")
    p.add_argument("--activation", default="sigmoid", choices=ACTIVATIONS.names(), help="hidden activation")
    p.add_argument("--output", choices=ACTIVATIONS.names(), help="output activation (default: softmax, or identity for regression)")
    p.add_argument("--cost", choices=COSTS.names(), help="cost (default: the one matching the output)")
    p.add_argument("--optimizer", default="adam", choices=OPTIMIZERS.names(), help="update rule")
    p.add_argument("--learning-rate", type=constrained("learning_rate"), default=0.01, help="step size")
    p.add_argument("--batch-size", type=constrained("batch_size"), default=32, help="samples per step; --full-batch for batch GD")
    p.add_argument("--full-batch", action="store_true", help="batch gradient descent: the whole set per step")
    p.add_argument("--epochs", type=constrained("epochs"), default=40, help="passes over the training rows")
    p.add_argument("--schedule", default="constant", choices=SCHEDULES.names(), help="learning-rate schedule")
    p.add_argument("--l2", type=constrained("l2"), default=0.0, help="L2 penalty on the weights")
    p.add_argument("--clip-norm", type=constrained("clip_norm"), metavar="MAX",
                   help="rescale the gradients whenever their global L2 norm exceeds MAX (default: off)")
    p.add_argument("--seed", type=constrained("seed"), default=0, help="seed of the weights, the split and the shuffling")
    p.add_argument("--dtype", default="float32", choices=["float32", "float64"],
                   help="float32 (default here, for speed) or float64 (the default of Network() in Python)")
    p.add_argument("--device", default="cpu", choices=["cpu", "cuda"], help="cuda needs CuPy and an NVIDIA GPU")
    p.add_argument("--threads", type=positive_int,
                   help="BLAS threads to use (default: the machine's setting, but one for a network whose "
                        "products are small enough that a second thread only gets in the way)")
    p.add_argument("--engine", default=None, choices=ENGINES,
                   help="numpy (the reference, default; with --resume, the engine the run was saved with); "
                        "compiled: numba's machine code (pip install "
                        "'glassnet[fast]'; the first run on a machine compiles for 20-40 s, every run loads it "
                        "for about 0.6 s, so it pays on runs of seconds or more); auto: compiled where it pays")
    p.add_argument("--test-fraction", type=fraction,
                   help="share of rows held out for the test (default 0.2; 0 for the 4-row xor, and, or)")
    p.add_argument("--validation-fraction", type=fraction,
                   help="share of rows held out for validation (default 0.1; 0 for xor, and, or)")
    p.add_argument("--no-standardize", action="store_true", help="do not standardise the features")
    p.add_argument("--early-stopping", type=constrained("patience"), metavar="PATIENCE",
                   help="stop after this many epochs without a better validation loss")
    p.add_argument("--target-accuracy", type=constrained("target_accuracy"), help="stop once the training accuracy reaches this (0..1)")
    p.add_argument("--out", help="model file to write (default: model.npz; with --resume of OUT.ckpt, OUT)")
    p.add_argument("--plots", metavar="DIR", help="write PNG plots here: curves, network and, for classification, "
                   "the confusion matrix (and the decision boundary for 2-D data)")
    p.add_argument("--checkpoint", metavar="FILE", help="save the run here (every --checkpoint-every epochs and on "
                   "Ctrl-C); default on Ctrl-C: OUT.ckpt")
    p.add_argument("--checkpoint-every", type=constrained("checkpoint_every"), metavar="N", help="save a checkpoint every N epochs")
    p.add_argument("--resume", metavar="FILE", help="continue the run saved in this checkpoint with its own settings "
                   "(options that conflict with them, and changed data, are refused)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    add_output_flags(p)
    from ..workflow import TrainSettings

    # TrainSettings holds the defaults; an option not given keeps them as NotGiven (shown by --help)
    p.set_defaults(**{dest: NotGiven.of(getattr(TrainSettings, field)) for dest, field in SETTING_OPTIONS.items()})


class NotGiven:
    """The default of an option that was not given on the command line: shown by ``--help`` as TrainSettings'
    default, and left out of :func:`given_settings` (so ``--resume`` refuses only options really given)."""

    def __init__(self, value):
        self.value = value

    @classmethod
    def of(cls, value):
        """``NotGiven(value)``, or None for a setting whose default is None (help shows nothing then)."""
        return None if value is None else cls(value)

    def __str__(self) -> str:
        return ",".join(map(str, self.value)) if isinstance(self.value, tuple) else str(self.value)


#: command-line option -> TrainSettings field; these default to None here so that only the options given
#: on the command line are set (TrainSettings holds the defaults) and ``--resume`` can refuse those that conflict
SETTING_OPTIONS = {
    "dataset": "dataset", "target": "target", "task": "task", "samples": "n_samples", "layers": "hidden",
    "activation": "activation", "output": "output", "cost": "cost", "optimizer": "optimizer",
    "learning_rate": "learning_rate", "batch_size": "batch_size", "epochs": "epochs", "schedule": "schedule",
    "l2": "l2", "seed": "seed", "dtype": "dtype", "device": "device", "test_fraction": "test_fraction",
    "validation_fraction": "validation_fraction", "early_stopping": "early_stopping",
    "target_accuracy": "target_accuracy", "clip_norm": "clip_norm",
}


#: TrainSettings field -> the option that sets it, as a refusal names it (--no-standardize's field, a flag,
#: is named as itself: standardize=False)
OPTION_NAMES = {field: "--" + dest.replace("_", "-") for dest, field in SETTING_OPTIONS.items()}


def given_settings(args) -> dict:
    """The TrainSettings fields set by options given on the command line."""
    given = {field: getattr(args, dest) for dest, field in SETTING_OPTIONS.items()
             if getattr(args, dest) is not None and not isinstance(getattr(args, dest), NotGiven)}
    if args.full_batch:
        given["batch_size"] = None
    if args.no_standardize:
        given["standardize"] = False
    return given


def run(args) -> int:
    import signal

    args.out = _out_path(args)
    # outside training's own signal handling (loading data, printing the summary), SIGTERM acts as Ctrl-C
    previous = signal.signal(signal.SIGTERM, signal.default_int_handler)
    result = None
    try:
        outcome = _train(args)
        if isinstance(outcome, int):
            return outcome
        result = outcome
        return _report(args, result)
    except KeyboardInterrupt:
        import sys

        written = "holds this run's model" if result is not None else "was not written by this run"
        print(f"\nglassnet train: interrupted; every file on disk is complete and {args.out} {written}",
              file=sys.stderr)
        return 130
    finally:
        signal.signal(signal.SIGTERM, previous)


def _out_path(args) -> str:
    """Where the model goes: --out; else model.npz for a new run, and for a resumed one the model its checkpoint
    was named after (OUT.ckpt, as an interrupted run names it, resumes into OUT). A resumed checkpoint named
    otherwise needs --out: writing model.npz would overwrite whatever model is there."""
    from ..errors import ConfigError

    if args.out is not None:
        return args.out
    if not args.resume:
        return "model.npz"
    if args.resume.endswith(".npz.ckpt"):
        return args.resume[:-len(".ckpt")]
    raise ConfigError(f"--resume {args.resume}: give --out for the model file (the checkpoint is not named "
                      f"OUT.npz.ckpt, so which model it belongs to is not known)")


def _train(args):
    """The run's TrainResult, or exit status 130 after an interruption that saved a checkpoint."""
    import os
    import sys
    import warnings

    from ..errors import TrainingInterrupted, TrainingWarning
    from ..progress import ProgressBar
    from ..threads import limit_threads
    from ..workflow import TrainSettings, resume, train

    given = given_settings(args)
    check_writable_file(args.out, "--out")
    if args.plots:
        check_plotting_available()
        check_writable_folder(args.plots, "--plots")
    cpus = os.cpu_count() or 1
    if args.threads is not None and args.threads > cpus:  # allowed (the BLAS takes it), but rarely meant
        print(f"glassnet train: note: --threads {args.threads} is more than this machine's {cpus} CPUs; "
              f"threads beyond the CPUs wait for each other", file=sys.stderr)
    checkpoint = args.resume or args.checkpoint or f"{args.out}.ckpt"
    callbacks = [] if args.quiet else [ProgressBar(given.get("epochs", TrainSettings.epochs))]
    try:
        with limit_threads(args.threads), warnings.catch_warnings():
            warnings.simplefilter("ignore", TrainingWarning)  # printed by _report, one plain line each
            warnings.showwarning = _one_line(warnings.showwarning)
            if args.resume:
                return resume(args.resume, callbacks, args.checkpoint_every, handle_signals=True, out=args.out,
                              overrides=given, engine=args.engine, option_names=OPTION_NAMES)
            return train(TrainSettings(**given), callbacks, checkpoint, args.checkpoint_every, handle_signals=True,
                         out=args.out, engine=args.engine)
    except TrainingInterrupted as stop:
        print(f"\nglassnet train: interrupted after epoch {stop.epoch}, batch {stop.batch}; the run is saved in "
              f"{checkpoint}.\nResume it with:  glassnet train --resume {checkpoint} --out {args.out}",
              file=sys.stderr)
        return 130


def _one_line(show):
    """A warnings printer that prints glassnet's own notes (the engine's fallback) as one plain line."""
    import sys

    def printer(message, category, filename, lineno, file=None, line=None):
        text = str(message)
        if text.startswith("glassnet: "):
            print(f"glassnet train: note: {text[len('glassnet: '):]}", file=sys.stderr)
        else:
            show(message, category, filename, lineno, file, line)
    return printer


def _report(args, result) -> int:
    import sys

    summary = {"dataset": result.dataset.summary(), "network": repr(result.model.network),
               "epochs_run": len(result.history), "stop_reason": result.history.stop_reason,
               "seconds": round(result.seconds, 3), "metrics": result.metrics, "model_file": args.out,
               "notes": result.notes, "warnings": list(result.history.warnings)}
    for message in summary["warnings"]:
        print(f"glassnet train: warning: {message}", file=sys.stderr)
    if args.plots:
        from ..plots import write_training_plots

        summary["plots"] = write_training_plots(args.plots, result)
    from .common import emit

    emit(summary, args.json, _text(summary))
    if result.interrupted:
        print(f"glassnet train: interrupted after training had finished; the model was saved completely to "
              f"{args.out}", file=sys.stderr)
        return 130
    return 0


def _text(summary: dict) -> str:
    lines = [f"{summary['network']}",
             f"dataset {summary['dataset']['name']}: {summary['dataset']['samples']} samples, "
             f"{summary['dataset']['features']} features; {summary['epochs_run']} epochs in {summary['seconds']} s "
             f"({summary['stop_reason']})"] + [f"note: {note}" for note in summary["notes"]]
    for split, values in summary["metrics"].items():
        parts = [f"loss {values['loss']:.4f}"] + ([f"accuracy {values['accuracy']:.2%}"] if "accuracy" in values else [])
        lines.append(f"{split:>10}: " + ", ".join(parts))
    lines.append(f"model saved to {summary['model_file']}")
    for path in summary.get("plots", []):
        lines.append(f"plot: {path}")
    return "\n".join(lines)
