"""Configuration from ``[tool.scrubber]`` in pyproject.toml or a ``scrubber.toml``; CLI flags win.

    [tool.scrubber]
    select = ["CO-111", "CO-21"]
    ignore = ["timely-filing-limit-near"]
    fail-on = "warning"
    profiles = ["payers/"]
    rules = ["our-rules/"]
    severity = { "invalid-npi" = "warning" }
    tables = { ncci-ptp = "ncci.sqlite", mue = "ncci.sqlite", addon = "payer-addon.csv" }

The file is found by walking up from the current directory (``scrubber.toml`` first, then a
``pyproject.toml`` that has a ``[tool.scrubber]`` table), or named with ``--config``. Unknown keys
are an error naming the key, so a typo never silently does nothing. The keys that decide the findings
(``OPTION_KEYS``) become a :class:`scrubber.options.ScrubOptions` (``Config.scrub_options``); the
others (``fail-on``, ``format``, ``redact``, ...) are for the command that writes the report.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from scrubber.errors import ScrubberUserError
from scrubber.options import SEVERITIES, ScrubOptions

# key -> (type, allowed values or None)
KEYS: dict[str, tuple[type, tuple[str, ...] | None]] = {
    "select": (list, None),
    "ignore": (list, None),
    "fail-on": (str, SEVERITIES),
    "profiles": (list, None),
    "rules": (list, None),
    "severity": (dict, None),
    "engine": (str, ("durable", "python")),
    "format": (str, None),
    "exit-zero": (bool, None),
    "redact": (bool, None),
    "baseline": (str, None),
    "jobs": (int, None),
    "tables": (dict, None),
}
# config key -> ScrubOptions field, for the keys that are scrub options
OPTION_KEYS = {
    "select": "select",
    "ignore": "ignore",
    "rules": "rulesets",
    "profiles": "profiles",
    "severity": "severity",
    "engine": "engine",
    "tables": "tables",
}


class ConfigError(ScrubberUserError):
    """The configuration file is unusable; the message names the file and the key."""


@dataclass
class Config:
    path: Path | None = None
    values: dict[str, Any] = field(default_factory=dict)

    def get(self, key: str, default: Any = None) -> Any:
        return self.values.get(key, default)

    def scrub_options(self, **overrides: Any) -> ScrubOptions:
        """The scrub options this file sets, with every override that is not None (command-line flags win)."""
        found = {name: self.values[key] for key, name in OPTION_KEYS.items() if key in self.values}
        return ScrubOptions(**found).merged(**overrides)


def find_config(start: Path | None = None) -> Path | None:
    directory = (start or Path.cwd()).resolve()
    for folder in (directory, *directory.parents):
        candidate = folder / "scrubber.toml"
        if candidate.is_file():
            return candidate
        pyproject = folder / "pyproject.toml"
        if pyproject.is_file() and "scrubber" in _read(pyproject).get("tool", {}):
            return pyproject
    return None


def _read(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as error:
        raise ConfigError(f"{path}: cannot read TOML: {error}") from None


def load_config(path: Path | None) -> Config:
    """The validated configuration at ``path`` (an empty Config when there is none)."""
    if path is None:
        return Config()
    document = _read(path)
    table = document.get("tool", {}).get("scrubber", {}) if path.name == "pyproject.toml" else document
    if path.name == "scrubber.toml" and "tool" in table:
        table = table["tool"].get("scrubber", table)
    values: dict[str, Any] = {}
    base = path.parent
    for key, value in table.items():
        if key not in KEYS:
            raise ConfigError(f"{path}: unknown key {key!r} in the scrubber configuration (known: {', '.join(KEYS)})")
        kind, allowed = KEYS[key]
        if not isinstance(value, kind) or (kind is list and not all(isinstance(item, str) for item in value)):
            raise ConfigError(f"{path}: {key!r} must be a {kind.__name__}{' of strings' if kind is list else ''}")
        if allowed and value not in allowed:
            raise ConfigError(f"{path}: {key!r} must be one of {', '.join(allowed)}, not {value!r}")
        if key == "severity":
            for rule, severity in value.items():
                if severity not in SEVERITIES:
                    raise ConfigError(f"{path}: severity of {rule!r} must be one of {', '.join(SEVERITIES)}")
        if key == "tables":
            from scrubber.options import TABLE_NAMES

            for name, table_path in value.items():
                if name not in TABLE_NAMES:
                    raise ConfigError(f"{path}: tables: unknown table {name!r} (known: {', '.join(TABLE_NAMES)})")
                if not isinstance(table_path, str) or not table_path:
                    raise ConfigError(f"{path}: tables: {name!r} must be a path (a string)")
            value = {name: str(base / table_path) for name, table_path in value.items()}  # relative to the file
        if key in ("profiles", "rules"):
            value = [str((base / item)) for item in value]  # relative to the config file
        if key == "baseline":
            value = str(base / value)
        values[key] = value
    return Config(path, values)
