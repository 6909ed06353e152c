"""The ``glassnet`` command: one module per subcommand; each parses, calls the library, prints.

Progress goes to stderr; results go to stdout (``--json`` makes them machine-readable).
"""
from __future__ import annotations

import argparse
import json
import sys

from ..errors import GlassnetError
from . import (datasets_cmd, evaluate_cmd, explain_cmd, export_cmd, info_cmd, playground_cmd, predict_cmd,
               train_cmd)

COMMANDS = [train_cmd, evaluate_cmd, predict_cmd, explain_cmd, info_cmd, datasets_cmd, export_cmd, playground_cmd]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="glassnet",
        description="Feedforward neural networks trained by backpropagation, with every number in view.",
        epilog="example:  glassnet train --dataset digits25 --out digits.npz   (then: glassnet evaluate digits.npz)",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    from .._version import __version__

    parser.add_argument("--version", action="version", version=f"glassnet {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for module in COMMANDS:
        command = sub.add_parser(module.NAME, help=module.HELP, description=module.__doc__,
                                 epilog=module.EXAMPLE, formatter_class=argparse.RawDescriptionHelpFormatter)
        module.add_arguments(command)
        command.set_defaults(run=module.run)
    return parser


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.run(args) or 0)
    except GlassnetError as exc:
        print(f"glassnet {args.command}: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"glassnet {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
