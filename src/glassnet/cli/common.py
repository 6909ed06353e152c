"""Argument types and checks shared by the subcommands (faces floor)."""
from __future__ import annotations

import argparse
import json
import os

from ..errors import ConfigError


def _number(text: str, convert, accept, expected: str):
    """``convert(text)`` if it parses and ``accept``s it, else an argparse error saying what was expected."""
    try:
        value = convert(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected {expected}, got {text!r}") from None
    if not accept(value):
        raise argparse.ArgumentTypeError(f"expected {expected}, got {text}")
    return value


def constrained(name: str):
    """An argparse type for the parameter ``name`` of glassnet's one table of constraints
    (:mod:`glassnet.constraints`), so the command line accepts exactly what the library accepts."""
    from ..constraints import CONSTRAINTS, check

    constraint = CONSTRAINTS[name]

    def parse(text: str):
        return _number(text, constraint.kind, lambda value: _passes(check, name, value),
                       constraint.describe().removesuffix(" or None"))

    parse.__name__ = name
    return parse


def _passes(check, name: str, value) -> bool:
    try:
        check(name, value)
    except ConfigError:
        return False
    return True


def positive_int(text: str) -> int:
    return _number(text, int, lambda v: v >= 1, "a whole number >= 1")


def sample_index(text: str) -> int:
    return _number(text, int, lambda v: v >= 0, "a row number >= 0")


def port(text: str) -> int:
    return _number(text, int, lambda v: 1 <= v <= 65535, "a TCP port number 1..65535")


def fraction(text: str) -> float:
    return _number(text, float, lambda v: 0.0 <= v < 1.0, "a fraction in [0, 1)")


def layer_sizes(text: str) -> tuple:
    if text.strip() in ("", "none"):
        return ()
    try:
        sizes = tuple(int(part) for part in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected hidden sizes like 20,20, got {text!r}") from None
    if any(s < 1 for s in sizes):
        raise argparse.ArgumentTypeError(f"hidden layer sizes must be >= 1, got {text!r}")
    return sizes


def add_output_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print the results as JSON on stdout")


def check_writable_file(path: str, option: str) -> None:
    """Refuse, before any work is done, an output path that is a folder or lies in a missing/unwritable one."""
    if os.path.isdir(path):
        raise ConfigError(f"{option} {path!r} is a folder; give a file name such as {os.path.join(path, 'model.npz')}")
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise ConfigError(f"{option} {path!r}: folder {folder!r} does not exist")
    if not os.access(folder, os.W_OK):
        raise ConfigError(f"{option} {path!r}: folder {folder!r} is not writable")
    from ..modelfile import is_model_file

    if os.path.exists(path) and not is_model_file(path):
        raise ConfigError(f"{option} {path!r} exists and is not a glassnet model file; refusing to overwrite it "
                          f"(remove it or choose another name)")


def check_writable_folder(path: str, option: str) -> None:
    """Create ``path`` if needed and refuse it, before any work is done, if it cannot take new files."""
    if os.path.exists(path) and not os.path.isdir(path):
        raise ConfigError(f"{option} {path!r} is a file, not a folder")
    try:
        os.makedirs(path, exist_ok=True)
    except OSError as exc:
        raise ConfigError(f"{option} {path!r}: cannot create the folder ({exc.strerror})") from None
    if not os.access(path, os.W_OK | os.X_OK):
        raise ConfigError(f"{option} {path!r}: the folder is not writable")


def check_plotting_available() -> None:
    """Refuse --plots before training when matplotlib (the plot extra) is missing."""
    import importlib.util

    if importlib.util.find_spec("matplotlib") is None:
        raise ConfigError("--plots needs matplotlib: pip install 'glassnet[plot]'")


def emit(result, as_json: bool, text: str) -> None:
    """Print the result: JSON when asked, the human text otherwise."""
    print(json.dumps(result, indent=2, default=str) if as_json else text)
