"""Start the playground (faces floor): a local web page to watch a network learn and step through backpropagation."""
from __future__ import annotations

from .common import port

NAME = "playground"
HELP = "the local web playground (prints its URL; opens nothing)"
EXAMPLE = """example:
  glassnet playground --port 8765        # then open http://127.0.0.1:8765/ in a browser"""


def add_arguments(p) -> None:
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (127.0.0.1: this machine only)")
    p.add_argument("--port", type=port, default=8765, help="TCP port to listen on")


def run(args) -> int:
    import sys

    from ..errors import ConfigError

    try:
        from ..web.server import serve
    except ImportError:
        raise ConfigError("the playground needs starlette and uvicorn: pip install 'glassnet[web]'") from None
    check_port_free(args.host, args.port)
    print(f"glassnet playground: http://{args.host}:{args.port}/  (Ctrl-C stops it)", flush=True)
    if args.host not in ("127.0.0.1", "localhost", "::1"):
        print("warning: listening beyond this machine; anyone who can reach it can use the playground",
              file=sys.stderr)
    serve(args.host, args.port)
    return 0


def check_port_free(host: str, number: int) -> None:
    """Refuse, before printing any URL, an address that cannot be listened on (port taken, unknown host)."""
    import socket

    from ..errors import ConfigError

    try:
        family, kind, proto, _, address = socket.getaddrinfo(host, number, type=socket.SOCK_STREAM)[0]
    except socket.gaierror as exc:
        raise ConfigError(f"cannot listen on host {host!r}: {exc.strerror}") from None
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the server does
        try:
            probe.bind(address)
        except OSError as exc:
            raise ConfigError(f"cannot listen on {host}:{number}: {exc.strerror}; another program may be using "
                              f"the port (choose another with --port)") from None
