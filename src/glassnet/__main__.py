"""``python -m glassnet`` (faces floor): the command line."""
import sys

from .cli import main

sys.exit(main())
