"""``python -m sertools``: the same command line as the ``sertools`` script."""

from sertools.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
