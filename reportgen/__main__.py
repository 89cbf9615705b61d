"""`python -m reportgen`: the same command line as the `reportgen` script."""

from .cli import main

main()
