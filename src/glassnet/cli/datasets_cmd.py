"""List the datasets that ship with glassnet or its data extra (nothing is ever downloaded) (faces floor)."""
from __future__ import annotations

from .common import add_output_flags

NAME = "datasets"
HELP = "list the bundled and generated datasets"
EXAMPLE = """example:
  glassnet datasets --json"""


def add_arguments(p) -> None:
    add_output_flags(p)


def run(args) -> int:
    from ..data import names
    from .common import emit

    listing = names()
    width = max(map(len, listing))
    text = "\n".join(f"{name.ljust(width)}  {about}" for name, about in listing.items())
    text += ("\n\nOr give a path: a .csv (--target picks the column; a first row of numbers is data, and the columns"
             "\nare then column_1, column_2, ... by position), an .npz (arrays X and y) or a .npy table.")
    emit(listing, args.json, text)
    return 0
