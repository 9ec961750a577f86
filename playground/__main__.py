"""`python -m playground` runs the playground CLI."""

import sys

from playground.cli import main

sys.exit(main())
