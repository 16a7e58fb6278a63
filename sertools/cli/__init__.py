"""The ``sertools`` command line.

Each subcommand lives in its own module of this package (``corpus``, ``train``,
``evaluate``, ``predict``, ``stream``) and defines three names:

``HELP``
    one-line description shown by ``sertools --help``;
``add_arguments(parser)``
    adds its options to an :class:`argparse.ArgumentParser`;
``run(args) -> int``
    does the work and returns the exit status.

Output meant for programs is JSON on stdout (:func:`emit`). Every error that
sertools raises on purpose (:class:`sertools.SertoolsError`), a missing file
or a bad argument ends the program with exit status 2 and one line
``sertools: error: ...`` on stderr, never a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import json
import os
import sys
from collections.abc import Sequence
from typing import Any, NoReturn

from sertools import __version__
from sertools.errors import SertoolsError

#: Subcommands in the order ``--help`` lists them; a module that does not exist yet is skipped.
COMMANDS = ("corpus", "train", "evaluate", "predict", "stream")


class _Parser(argparse.ArgumentParser):
    """ArgumentParser whose errors are one line on stderr and exit status 2."""

    def error(self, message: str) -> NoReturn:
        fail(message)


def fail(message: str) -> NoReturn:
    """Print ``sertools: error: MESSAGE`` on one line to stderr and exit with status 2."""
    one_line = " ".join(str(message).split())
    sys.stderr.write(f"sertools: error: {one_line}\n")
    sys.stderr.flush()
    raise SystemExit(2)


def emit(obj: Any) -> None:
    """Print one JSON object on its own line to stdout (numpy scalars and arrays allowed)."""

    def default(o: Any) -> Any:
        if hasattr(o, "tolist"):
            return o.tolist()
        if isinstance(o, os.PathLike):
            return os.fspath(o)
        raise TypeError(f"not JSON serialisable: {type(o).__name__}")

    sys.stdout.write(json.dumps(obj, default=default) + "\n")
    sys.stdout.flush()


def available_commands() -> list[str]:
    """Names of the subcommands whose modules exist in this installation."""
    return [c for c in COMMANDS if importlib.util.find_spec(f"sertools.cli.{c}") is not None]


def build_parser() -> argparse.ArgumentParser:
    """The top-level parser with one subparser per available subcommand."""
    parser = _Parser(
        prog="sertools",
        description="Speech emotion recognition: make a corpus, train, evaluate, predict, stream.",
    )
    parser.add_argument("--version", action="version", version=f"sertools {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for name in available_commands():
        module = importlib.import_module(f"sertools.cli.{name}")
        p = sub.add_parser(name, help=module.HELP, description=module.HELP)
        module.add_arguments(p)
        p.set_defaults(_run=module.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``sertools`` script and of ``python -m sertools``."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "_run", None) is None:
        parser.print_help()
        return 2
    try:
        return int(args._run(args) or 0)
    except SertoolsError as e:
        fail(str(e))
    except FileNotFoundError as e:
        fail(f"{e.filename or e}: no such file or directory")
    except (PermissionError, IsADirectoryError, NotADirectoryError) as e:
        fail(f"{e.filename or ''}: {e.strerror or e}")
    except BrokenPipeError:
        # The reader went away (e.g. `sertools predict ... | head`): stop quietly like other
        # command-line tools, and keep Python from complaining again when it flushes stdout at exit.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0
    except KeyboardInterrupt:
        fail("interrupted")
