"""Start the playground: a local web page to watch a network learn and step through backpropagation."""
from __future__ import annotations

from .common import positive_int

NAME = "playground"
HELP = "the local web playground (prints its URL; opens nothing)"
EXAMPLE = """example:
  glassnet playground --port 8765        # then open http://127.0.0.1:8765/ in a browser"""


def add_arguments(p) -> None:
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1: this machine only)")
    p.add_argument("--port", type=positive_int, default=8765)


def run(args) -> int:
    import sys

    try:
        from ..web.server import serve
    except ImportError:
        from ..errors import ConfigError

        raise ConfigError("the playground needs starlette and uvicorn: pip install 'glassnet[web]'") from None
    print(f"glassnet playground: http://{args.host}:{args.port}/  (Ctrl-C stops it)", flush=True)
    if args.host not in ("127.0.0.1", "localhost", "::1"):
        print("warning: listening beyond this machine; anyone who can reach it can use the playground",
              file=sys.stderr)
    serve(args.host, args.port)
    return 0
