"""``scrubber``: the command line. Thin: each subcommand lives in ``scrubber/commands/<name>.py``.

Exit status of ``check``: 0 nothing at or above --fail-on; 1 something was (or a claim was
unreadable); 2 usage error, or no claim could be read at all.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from typing import Sequence

from scrubber import __version__
from scrubber.errors import ScrubberUserError

EXIT_CLEAN, EXIT_USAGE = 0, 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="scrubber", description="Flag US healthcare claims likely to be denied, before they are submitted."
    )
    parser.add_argument("--version", action="version", version=f"scrubber {__version__}")
    from scrubber.commands import COMMANDS

    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMANDS:
        importlib.import_module(f"scrubber.commands.{name}").add_parser(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv == ["--version"]:  # answered before the subcommands (and pydantic) are imported
        print(f"scrubber {__version__}")
        return EXIT_CLEAN
    args = _parser().parse_args(argv)
    command = importlib.import_module(f"scrubber.commands.{args.command.replace('-', '_')}")  # new-rule: new_rule.py
    try:
        return command.run(args)
    except ScrubberUserError as error:
        print(f"scrubber: {error}", file=sys.stderr)
        return EXIT_USAGE
    except BrokenPipeError:
        return EXIT_CLEAN
    except OSError as error:  # e.g. --output into a missing directory
        print(f"scrubber: {error.filename or ''}: {error.strerror or error}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
