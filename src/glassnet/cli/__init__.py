"""The ``glassnet`` command (faces floor): one module per subcommand; each parses, calls the library, prints.

Progress goes to stderr; results go to stdout (``--json`` makes them machine-readable).

Every failure ends the same way (see :func:`main`): a refused input or setting is one line on stderr and exit
status 1; a wrong command line is one line and status 2; a closed pipe (``glassnet predict ... | head -1``)
ends quietly with status 141, as other Unix tools do; anything unexpected is one line and a request to report
it, with the traceback shown only under ``--debug``.
"""
from __future__ import annotations

import argparse
import os
import sys

from ..errors import GlassnetError
from . import (datasets_cmd, evaluate_cmd, explain_cmd, export_cmd, info_cmd, playground_cmd, predict_cmd,
               train_cmd)

COMMANDS = [train_cmd, evaluate_cmd, predict_cmd, explain_cmd, info_cmd, datasets_cmd, export_cmd, playground_cmd]
REPORT_HINT = ("this is a bug in glassnet: please report it with the command you ran "
               "(add --debug to see the traceback)")
#: 128 + SIGPIPE: what a shell reports for a tool whose reader went away
EXIT_BROKEN_PIPE = 141


class Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one line (and a pointer to ``--help``), not a usage block."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message} (see `{self.prog} --help`)\n")


class HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """Keeps the examples' line breaks and adds "(default: ...)" to every option with a default value that
    its help does not already state."""

    def _get_help_string(self, action):
        text = action.help or ""
        default = action.default
        shows_nothing = default is None or default is False or default is argparse.SUPPRESS
        if action.option_strings and "default" not in text and not shows_nothing:
            shown = ",".join(map(str, default)) if isinstance(default, tuple) else default
            text += f" (default: {shown})"
        return text


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="glassnet",
        description="Feedforward neural networks trained by backpropagation, with every number in view.",
        epilog="example:  glassnet train --dataset digits25 --out digits.npz   (then: glassnet evaluate digits.npz)",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    from .._version import __version__

    parser.add_argument("--version", action="version", version=f"glassnet {__version__}")
    parser.add_argument("--debug", action="store_true", help="show the traceback of an unexpected error")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    sub.required = True
    for module in COMMANDS:
        # the module's docstring, less the floor it sits on (words for the code's readers, not the command's users)
        description = module.__doc__.replace(" (faces floor)", "")
        command = sub.add_parser(module.NAME, help=module.HELP, description=description,
                                 epilog=module.EXAMPLE, formatter_class=HelpFormatter)
        module.add_arguments(command)
        command.add_argument("--debug", action="store_true", default=argparse.SUPPRESS,
                             help="show the traceback of an unexpected error")
        command.set_defaults(run=module.run)
    return parser


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    name = f"glassnet {args.command}"
    try:
        status = int(args.run(args) or 0)
        sys.stdout.flush()  # a closed pipe shows up here for output still in the buffer
        return status
    except BrokenPipeError:
        return _quiet_after_closed_pipe()
    except GlassnetError as exc:
        print(f"{name}: error: {_one_line(exc)}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"{name}: interrupted", file=sys.stderr)
        return 130
    except OSError as exc:  # the system refused a file or a socket: the user's to fix, not a bug
        print(f"{name}: error: {_one_line(exc)}", file=sys.stderr)
        return 1
    except Exception as exc:  # noqa: BLE001 - the one place every unexpected error is turned into a report
        if args.debug:
            raise
        print(f"{name}: unexpected error: {type(exc).__name__}: {_one_line(exc)}\n{REPORT_HINT}", file=sys.stderr)
        return 1


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__


def _quiet_after_closed_pipe() -> int:
    """The reader went away: point stdout at /dev/null so Python's exit-time flush cannot complain."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    return EXIT_BROKEN_PIPE


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
