"""Argument types shared by the subcommands."""
from __future__ import annotations

import argparse
import json


def _number(text: str, convert, accept, expected: str):
    """``convert(text)`` if it parses and ``accept``s it, else an argparse error saying what was expected."""
    try:
        value = convert(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected {expected}, got {text!r}") from None
    if not accept(value):
        raise argparse.ArgumentTypeError(f"expected {expected}, got {text}")
    return value


def positive_int(text: str) -> int:
    return _number(text, int, lambda v: v >= 1, "a whole number >= 1")


def positive_float(text: str) -> float:
    return _number(text, float, lambda v: 0 < v < float("inf"), "a finite number > 0")


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


def emit(result, as_json: bool, text: str) -> None:
    """Print the result: JSON when asked, the human text otherwise."""
    print(json.dumps(result, indent=2, default=str) if as_json else text)
