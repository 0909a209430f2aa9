"""The one exception family the CLI turns into a one-line message and exit status 2.

ScrubberUserError (a problem with what the user gave us: never a traceback)
├── UsageError        bad flags or arguments            (here; raised by scrubber.commands.*)
│   └── ValidationUnavailable  --validate without pyx12 (scrubber.validate_ig)
├── RuleLoadError     an unusable rule file             (scrubber.rules.load)
├── ProfileLoadError  an unusable payer profile         (scrubber.profiles)
├── ConfigError       an unusable [tool.scrubber] table (scrubber.config)
└── BaselineError     an unreadable baseline file       (scrubber.baseline)

Bad *claims* are never exceptions: readers report them as ParseIssues and go on.

The family lives here, in the lowest layer, so that any module may raise one without importing the
command line (``scrubber.commands.common`` re-exports ``UsageError`` for the commands).
"""


class ScrubberUserError(ValueError):
    """Something the user supplied cannot be used; the message names the file and the field."""


class UsageError(ScrubberUserError):
    """Bad flags or arguments: reported in one line, exit 2."""
