"""Load rule files (YAML): the bundled rulesets, or a user's own files and directories."""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Iterable

import yaml
from pydantic import ValidationError

from scrubber.errors import ScrubberUserError
from scrubber.rules.spec import RuleSpec
from scrubber.yamlio import load_yaml


class RuleLoadError(ScrubberUserError):
    """A rule file is unusable; the message names the file and the field."""


def bundled_rule_files() -> list[Path]:
    root = resources.files("scrubber.rulesets")
    with resources.as_file(root) as directory:
        return sorted(Path(directory).rglob("*.yaml"))


def _expand(paths: Iterable[str | Path]) -> list[Path]:
    files: list[Path] = []
    for path in map(Path, paths):
        if path.is_dir():
            files.extend(sorted(p for p in path.rglob("*.y*ml") if p.suffix in (".yaml", ".yml")))
        elif path.exists():
            files.append(path)
        else:
            raise RuleLoadError(f"{path}: no such rule file or directory")
    return files


def load_rule_file(path: Path) -> list[RuleSpec]:
    try:
        document = load_yaml(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as error:
        raise RuleLoadError(f"{path}: cannot read YAML: {error}") from None
    if isinstance(document, dict) and "rules" in document and "id" not in document:
        raw_rules = document["rules"]
    else:
        raw_rules = [document]
    if not isinstance(raw_rules, list) or not all(isinstance(raw, dict) for raw in raw_rules):
        raise RuleLoadError(f"{path}: expected a rule mapping or 'rules: [...]'")
    rules = []
    for raw in raw_rules:
        try:
            rules.append(RuleSpec.model_validate({**raw, "file": str(path)}))
        except ValidationError as error:
            rule_id = raw.get("id", "?")
            problems = "; ".join(
                f"{'.'.join(str(part) for part in problem['loc']) or 'rule'}: {problem['msg']}"
                for problem in error.errors()
            )
            raise RuleLoadError(f"{path}: rule {rule_id!r}: {problems}") from None
    return rules


def load_rules(paths: Iterable[str | Path] | None = None, *, include_bundled: bool | None = None) -> list[RuleSpec]:
    """Load the bundled rules (default), or the given files/directories (plus the bundled ones if asked)."""
    files: list[Path] = []
    if paths is None or include_bundled:
        files.extend(bundled_rule_files())
    if paths is not None:
        files.extend(_expand(paths))
    rules: list[RuleSpec] = []
    seen: dict[str, str] = {}
    for file in files:
        for rule in load_rule_file(file):
            for name in [rule.id, *rule.aliases]:
                if name in seen:
                    raise RuleLoadError(f"{file}: rule id {name!r} is already used in {seen[name]}")
                seen[name] = str(file)
            rules.append(rule)
    return rules
