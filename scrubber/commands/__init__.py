"""One module per ``scrubber`` subcommand, each with ``add_parser(subparsers)`` and ``run(args) -> int``.

To add a command: write ``scrubber/commands/<name>.py`` and add its name to ``COMMANDS``.
"""

COMMANDS = ("check", "rules", "explain", "test", "facts", "serve", "guard", "remit", "backtest", "report", "schema")
