"""The one exception family the CLI turns into a one-line message and exit status 2.

ScrubberUserError (a problem with what the user gave us: never a traceback)
├── UsageError        bad flags or arguments            (scrubber.commands.common)
├── RuleLoadError     an unusable rule file             (scrubber.rules.load)
├── ProfileLoadError  an unusable payer profile         (scrubber.profiles)
├── ConfigError       an unusable [tool.scrubber] table (scrubber.config)
└── BaselineError     an unreadable baseline file       (scrubber.baseline)

Bad *claims* are never exceptions: readers report them as ParseIssues and go on.
"""


class ScrubberUserError(ValueError):
    """Something the user supplied cannot be used; the message names the file and the field."""
