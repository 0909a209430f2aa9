"""One module per ``scrubber`` subcommand, each with ``add_parser(subparsers)`` and ``run(args) -> int``.

To add a command: write ``scrubber/commands/<name>.py`` and add its name to ``COMMANDS``. A command
named with a hyphen (``new-rule``) lives in the module with an underscore (``new_rule.py``).
"""

COMMANDS = ("check", "rules", "explain", "test", "facts", "serve", "guard", "remit", "backtest", "report", "schema", "new_rule", "tables", "profiles")
