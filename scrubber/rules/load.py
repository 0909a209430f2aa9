"""Load rule files (YAML): the bundled rulesets, or a user's own files and directories.

Loading never stops at the first bad rule: every problem of every file (YAML syntax, schema, the
condition language, rule ids used twice) is collected, each with its file, line and YAML path, and
raised together as one :class:`RuleLoadError`, like a compiler reporting every error of a build.
Unknown fact, operator and code-set names get a "did you mean" from the names that exist.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import asdict, dataclass
from importlib import resources
from pathlib import Path
from typing import Any, Iterable, Sequence

import yaml
from pydantic import ValidationError

from scrubber.errors import ScrubberUserError
from scrubber.rules.spec import RuleSpec
from scrubber.yamlio import load_yaml

_Composer = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

PathPart = str | int  # a mapping key or a sequence index, as pydantic's ``loc`` has them


@dataclass(frozen=True)
class RuleProblem:
    """One problem of one rule file: where it is (file, 1-based line and column, YAML path) and what."""

    file: str
    line: int | None
    path: str  # the YAML path inside the file: ``when.all[1].fact``, ``rules[2].carc`` ('' for the whole file)
    message: str
    column: int | None = None
    rule: str | None = None  # the rule's id, when the problem belongs to one rule

    def where(self) -> str:
        """``file:line:column``, as far as known."""
        if not self.file:
            return ""
        return ":".join([self.file, *(str(n) for n in (self.line, self.column) if n is not None)])

    def __str__(self) -> str:
        rule = f"rule {self.rule!r}: " if self.rule else ""
        path = f"{self.path}: " if self.path else ""
        where = self.where()
        return f"{where + ': ' if where else ''}{rule}{path}{self.message}"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def sort_key(self) -> tuple:
        return (self.file, self.line or 0, self.column or 0, self.path, self.message)


class RuleLoadError(ScrubberUserError):
    """Rule files are unusable. ``errors`` lists every problem (file, line, YAML path, message), sorted by
    file and line; the message shows them all, one per line."""

    def __init__(self, problems: Sequence[RuleProblem] | str):
        if isinstance(problems, str):
            problems = [RuleProblem(file="", line=None, path="", message=problems)]
        self.errors: list[RuleProblem] = sorted(problems, key=RuleProblem.sort_key)
        super().__init__(self._text())

    def _text(self) -> str:
        if len(self.errors) == 1:
            return str(self.errors[0])
        files = len({problem.file for problem in self.errors})
        head = f"{len(self.errors)} problems in {files} rule file{'s' if files != 1 else ''}:"
        return "\n".join([head, *(f"  {problem}" for problem in self.errors)])

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: ``{"errors": [{"file", "line", "column", "path", "message", "rule"}, ...]}``."""
        return {"errors": [problem.to_dict() for problem in self.errors]}


def bundled_rule_files() -> list[Path]:
    root = resources.files("scrubber.rulesets")
    with resources.as_file(root) as directory:
        return sorted(Path(directory).rglob("*.yaml"))


def expand_rule_paths(paths: Iterable[str | Path]) -> tuple[list[Path], list[RuleProblem]]:
    """The rule files that ``paths`` (files or directories) name, each once; a path that does not exist is a problem."""
    files: list[Path] = []
    problems: list[RuleProblem] = []
    for path in map(Path, paths):
        if path.is_dir():
            files.extend(sorted(p for p in path.rglob("*.y*ml") if p.suffix in (".yaml", ".yml")))
        elif path.exists():
            files.append(path)
        else:
            problems.append(RuleProblem(str(path), None, "", "no such rule file or directory"))
    return _unique(files), problems


def _unique(files: Iterable[Path]) -> list[Path]:
    seen: set[Path] = set()
    result = []
    for file in files:
        key = file.resolve()
        if key not in seen:
            seen.add(key)
            result.append(file)
    return result


class _Document:
    """One rule file's text, its data, and (only when a problem needs a line) its YAML node tree."""

    def __init__(self, path: Path, text: str, data: Any):
        self.path = path
        self.text = text
        self.data = data
        self._root: yaml.Node | None = None

    def line_of(self, parts: Sequence[PathPart]) -> int | None:
        """The line of the deepest node on ``parts`` that the file has (a key's own line for a mapping entry)."""
        if self._root is None:
            try:
                self._root = yaml.compose(self.text, Loader=_Composer)  # noqa: S506 - a safe loader
            except yaml.YAMLError:
                return None
        node = self._root
        if node is None:
            return None
        line = node.start_mark.line + 1
        for part in parts:
            if isinstance(node, yaml.MappingNode) and isinstance(part, str):
                entry = next(((k, v) for k, v in node.value if getattr(k, "value", None) == part), None)
                if entry is None:
                    break
                line = entry[0].start_mark.line + 1
                node = entry[1]
            elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and 0 <= part < len(node.value):
                node = node.value[part]
                line = node.start_mark.line + 1
            else:
                break
        return line


def format_path(parts: Sequence[PathPart]) -> str:
    """``('rules', 2, 'when', 'all', 1, 'fact')`` as ``rules[2].when.all[1].fact``."""
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def parse_path(text: str) -> list[PathPart]:
    """The inverse of :func:`format_path`."""
    return [int(index) if index else key for key, index in re.findall(r"([^.\[\]]+)|\[(\d+)\]", text)]


def _read(path: Path) -> tuple[_Document | None, list[RuleProblem]]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        return None, [RuleProblem(str(path), None, "", f"cannot read the file: {error}")]
    try:
        data = load_yaml(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        problem = getattr(error, "problem", None) or str(error)
        context = getattr(error, "context", None)
        context_mark = getattr(error, "context_mark", None)
        if context and context_mark is not None:
            problem += f" ({context} started at line {context_mark.line + 1}, column {context_mark.column + 1})"
        return None, [
            RuleProblem(
                str(path),
                mark.line + 1 if mark is not None else None,
                "",
                f"YAML syntax error: {problem}",
                column=mark.column + 1 if mark is not None else None,
            )
        ]
    return _Document(path, text, data), []


def _raw_rules(document: _Document) -> tuple[list[tuple[list[PathPart], dict]], list[RuleProblem]]:
    """Each rule mapping of the file with its path prefix (``[]`` or ``['rules', i]``), and shape problems."""
    data = document.data
    file = str(document.path)
    if data is None:
        return [], [RuleProblem(file, 1, "", "the file is empty: expected a rule mapping or 'rules: [...]'")]
    if isinstance(data, dict) and "rules" in data and "id" not in data:
        items = data["rules"]
        if not isinstance(items, list):
            return [], [RuleProblem(file, document.line_of(["rules"]), "rules", "expected a list of rule mappings")]
        found, problems = [], []
        for index, item in enumerate(items):
            if isinstance(item, dict):
                found.append((["rules", index], item))
            else:
                parts: list[PathPart] = ["rules", index]
                problems.append(
                    RuleProblem(file, document.line_of(parts), format_path(parts), f"expected a rule mapping, got {item!r}")
                )
        return found, problems
    if isinstance(data, dict):
        return [([], data)], []
    return [], [RuleProblem(file, document.line_of([]), "", "expected a rule mapping or 'rules: [...]'")]


def _placeholder_condition() -> dict[str, Any]:
    """A condition that parses in any scope, standing in for a broken ``when`` so the rest of the rule is checked."""
    from scrubber.facts import FACTS

    name = next((spec.name for spec in FACTS.values() if spec.scope == "claim"), "payer_filing_indicator")
    return {"fact": name, "exists": True}


def _stand_ins() -> dict[str, Any]:
    """Valid values for required fields, put in place of broken ones so that the checks across fields still run
    (scope ``line`` is the permissive one: a line rule may use claim and line facts)."""
    return {
        "id": "stand-in", "name": "stand-in", "carc": "CO-16", "severity": "error", "scope": "line",
        "element": "CLM01", "when": _placeholder_condition(), "message": "stand-in", "fix": "stand-in",
        "explanation": "stand-in", "sources": ["stand-in"],
        "cases": [{"name": "stand-in-flag", "expect": "flag"}, {"name": "stand-in-pass", "expect": "pass"},
                  {"name": "stand-in-near-miss", "expect": "near-miss"}],
    }


_MAX_PASSES = 4


def _validate(document: _Document, prefix: list[PathPart], raw: dict) -> tuple[RuleSpec | None, list[RuleProblem]]:
    """The rule, or every problem found in it.

    pydantic stops early (a broken ``when`` hides every other field; a field error hides the checks across
    fields), so after a failure the broken fields are replaced by stand-ins (or dropped, when optional or
    unknown) and the rule is validated again, keeping only the problems of the fields still as written."""
    data = {**raw, "file": str(document.path)}
    problems: list[RuleProblem] = []
    replaced: set[str] = set()  # top-level keys no longer as written
    for _ in range(_MAX_PASSES):
        try:
            rule = RuleSpec.model_validate(data)
        except ValidationError as error:
            found = _problems(document, prefix, raw, error)
        else:
            return (rule, []) if not problems else (None, problems)
        fresh = [problem for problem in found if _top_key(problem, prefix) not in replaced]
        problems.extend(problem for problem in fresh if problem not in problems)
        broken = {_top_key(problem, prefix) for problem in found} - replaced - {None, "file"}
        if not broken:
            break
        data = _repaired(data, broken)
        replaced |= broken
    return None, problems


def _top_key(problem: RuleProblem, prefix: list[PathPart]) -> str | None:
    """The rule field a problem is in (``when`` for ``rules[1].when.all[0]``), None for the rule as a whole."""
    parts = parse_path(problem.path)[len(prefix):]
    return parts[0] if parts and isinstance(parts[0], str) else None


def _repaired(data: dict, broken: set[str]) -> dict:
    fields = RuleSpec.model_fields
    stand_ins = _stand_ins()
    repaired = dict(data)
    for key in broken:
        if key in fields and fields[key].is_required():
            repaired[key] = stand_ins.get(key, repaired.get(key))
        else:
            repaired.pop(key, None)
    return repaired


_LOCATED = re.compile(r"^(when(?:\.[A-Za-z_]\w*|\[\d+\])*): (.*)$", re.S)


def _problems(document: _Document, prefix: list[PathPart], raw: dict, error: ValidationError) -> list[RuleProblem]:
    rule_id = raw.get("id") if isinstance(raw.get("id"), str) else None
    problems = []
    for item in error.errors():
        cause = (item.get("ctx") or {}).get("error")
        message = str(cause) if isinstance(cause, Exception) else item["msg"]
        parts: list[PathPart] = [part for part in item["loc"] if isinstance(part, (str, int))]
        if not parts:  # a whole-rule validator: the message may say where
            parts, message = _locate_message(message, raw)
        message = with_suggestion(message, cause)
        parts = _refine(parts, message, raw)
        full = [*prefix, *parts]
        problems.append(RuleProblem(str(document.path), document.line_of(full), format_path(full), message, rule=rule_id))
    return problems


def _locate_message(message: str, raw: dict) -> tuple[list[PathPart], str]:
    """The YAML path a whole-rule message is about, and the message without it."""
    located = _LOCATED.match(message)
    if located:
        return parse_path(located.group(1)), located.group(2)
    field = re.match(r"^(message|fix) uses ", message)
    if field:
        return [field.group(1)], message
    if "same name" in message and isinstance(raw.get("cases"), list):
        names = [case.get("name") if isinstance(case, dict) else None for case in raw["cases"]]
        for index, name in enumerate(names):
            if name is not None and name in names[:index]:
                return ["cases", index, "name"], message
    if "cases" in message:
        return ["cases"], message
    return [], message


def _refine(parts: list[PathPart], message: str, raw: dict) -> list[PathPart]:
    """Point a condition problem at the key it is about (``.fact`` for an unknown fact, the operator's key)."""
    if not parts or parts[0] != "when":
        return parts
    node: Any = raw
    for part in parts:
        try:
            node = node[part]
        except (KeyError, IndexError, TypeError):
            return parts
    if not isinstance(node, dict):
        return parts
    if re.search(r"unknown fact|is a line fact|a comparison needs", message) and "fact" in node:
        return [*parts, "fact"]
    unknown_op = _unknown_operators(message)
    for name in unknown_op:
        if name in node:
            return [*parts, name]
    return parts


# --- did you mean ----------------------------------------------------------------------------------


def _unknown_operators(message: str) -> list[str]:
    found = re.search(r"operator.*?found \[([^\]]*)\]", message)
    names = re.findall(r"'([^']+)'", found.group(1)) if found else []
    named = re.search(r"unknown operator '([^']+)'", message)
    return names + ([named.group(1)] if named else [])


# what other rule languages call an operator -> ours
_OPERATOR_SYNONYMS = {
    "equals": "eq", "equal": "eq", "is": "eq", "==": "eq", "=": "eq",
    "not_equals": "ne", "not_equal": "ne", "neq": "ne", "!=": "ne", "is_not": "ne",
    "greater_than": "gt", ">": "gt", "greater_or_equal": "gte", ">=": "gte", "ge": "gte",
    "less_than": "lt", "<": "lt", "less_or_equal": "lte", "<=": "lte", "le": "lte",
    "one_of": "in", "any_of": "in", "not_one_of": "not_in", "none_of": "not_in", "nin": "not_in",
    "present": "exists", "exist": "exists", "absent": "missing", "is_missing": "missing",
    "in_code_set": "in_set", "set": "in_set", "range": "between", "startswith": "starts_with",
    "prefix": "starts_with", "includes": "contains", "has": "contains",
}


def _operators() -> list[str]:
    from scrubber.rules import conditions

    return list(getattr(conditions, "OPERATORS", ()))


def _facts() -> list[str]:
    from scrubber.facts import FACTS

    return list(FACTS)


def _code_set_names() -> list[str]:
    """Known code-set names: those the rules are validated against (bundled and the user's), else the bundled."""
    import importlib

    from scrubber.rules import spec

    variable = getattr(spec, "CODE_SETS", None)
    current = variable.get() if variable is not None else None
    if current is not None:
        return list(current)
    try:
        return list(importlib.import_module("scrubber.codesets.sets").bundled_code_sets())
    except Exception:  # noqa: BLE001 - a suggestion must never break loading
        return []


def suggest(name: str, choices: Iterable[str], synonyms: dict[str, str] | None = None) -> str | None:
    """The closest known name to ``name``, if one is close enough (or the one ``synonyms`` maps it to)."""
    choices = list(choices)
    if synonyms and synonyms.get(name.lower()) in choices:
        return synonyms[name.lower()]
    lowered = {choice.lower(): choice for choice in choices}
    if name.lower() in lowered and lowered[name.lower()] != name:
        return lowered[name.lower()]
    close = difflib.get_close_matches(name, choices, n=1, cutoff=0.6)
    return close[0] if close else None


def with_suggestion(message: str, cause: Any = None) -> str:
    """``message`` plus "did you mean ...?" when it says a fact, operator or code-set name is unknown.

    A condition error may carry ``unknown`` (the name) and ``choices`` (the known names): then those are used;
    otherwise the message is read (``unknown fact 'x'``, ``unknown code set 'x'``, ``found ['op']``)."""
    if "did you mean" in message:
        return message
    unknown = getattr(cause, "unknown", None)
    choices = getattr(cause, "choices", None)
    if isinstance(unknown, str) and choices:
        guess = suggest(unknown, choices)
        return f"{message}; did you mean {guess!r}?" if guess else message
    fact = re.search(r"unknown fact '([^']+)'", message)
    if fact:
        guess = suggest(fact.group(1), _facts())
        return f"{message}; did you mean {guess!r}?" if guess else message
    code_set = re.search(r"unknown (?:code[ -]set|set) '([^']+)'", message)
    if code_set:
        guess = suggest(code_set.group(1), _code_set_names())
        return f"{message}; did you mean {guess!r}?" if guess else message
    guesses = [
        (name, guess)
        for name in _unknown_operators(message)
        if (guess := suggest(name, _operators(), _OPERATOR_SYNONYMS)) is not None and guess != name
    ]
    if guesses:
        return message + "; " + ", ".join(f"did you mean {guess!r} for {name!r}?" for name, guess in guesses)
    return message


# --- loading ---------------------------------------------------------------------------------------


def _validate_document(document: _Document) -> tuple[list[RuleSpec], list[RuleProblem]]:
    raw_rules, problems = _raw_rules(document)
    loaded = []
    for prefix, raw in raw_rules:
        rule, found = _validate(document, prefix, raw)
        problems.extend(found)
        if rule is not None:
            loaded.append(rule)
    return loaded, problems


# --- code sets beside the rules ----------------------------------------------------------------------

_SET_ITEMS = ("codes", "ranges", "prefixes", "entries")


def is_code_set(data: Any) -> bool:
    """Whether a YAML document is a code set (``name`` and codes/ranges/prefixes/entries), not a rule."""
    return (
        isinstance(data, dict) and "id" not in data and "rules" not in data and "name" in data
        and any(key in data for key in _SET_ITEMS)
    )


def _sibling_code_set_files(named: Iterable[Path], known: set[Path]) -> list[Path]:
    """Code-set files in the directories of rule files named one by one: a user's sets live beside their rules."""
    found = []
    for directory in _unique(file.parent for file in named):
        for candidate in sorted(directory.glob("*.y*ml")):
            if candidate.suffix in (".yaml", ".yml") and candidate.resolve() not in known:
                try:
                    data = load_yaml(candidate.read_text(encoding="utf-8"))
                except (OSError, UnicodeDecodeError, yaml.YAMLError):
                    continue  # not ours to report: it was not named
                if is_code_set(data):
                    found.append(candidate)
    return found


def _load_code_sets(documents: Sequence[_Document]) -> tuple[dict[str, Any] | None, list[RuleProblem]]:
    """The bundled code sets plus these files' (a user set replaces a bundled one of its name), and their problems;
    None when there are no user sets (the rules then see the bundled ones)."""
    if not documents:
        return None, []
    from scrubber.codesets.sets import CodeSetError, bundled_code_sets, load_code_set

    sets = dict(bundled_code_sets())
    defined: dict[str, _Document] = {}
    problems: list[RuleProblem] = []
    for document in documents:
        try:
            code_set = load_code_set(document.path)
        except CodeSetError as error:
            problems += [_code_set_problem(document, text) for text in error.problems]
            continue
        if code_set.name in defined:
            first = defined[code_set.name]
            problems.append(
                RuleProblem(str(document.path), document.line_of(["name"]), "name",
                            f"code set {code_set.name!r} is already defined in {first.path}:{first.line_of(['name'])}")
            )
            continue
        defined[code_set.name] = document
        sets[code_set.name] = code_set
    return sets, problems


def _code_set_problem(document: _Document, text: str) -> RuleProblem:
    """A code-set loader's ``file: key: message`` as a RuleProblem with its line."""
    prefix = f"{document.path}: "
    text = text[len(prefix):] if text.startswith(prefix) else text
    keyed = re.match(r"^([A-Za-z_]\w*(?:\[\d+\])*): (.*)$", text, re.S)
    if keyed is None:
        return RuleProblem(str(document.path), document.line_of([]), "", f"code set: {text}")
    parts = parse_path(keyed.group(1))
    return RuleProblem(str(document.path), document.line_of(parts), keyed.group(1), f"code set: {keyed.group(2)}")


def _with_code_sets(sets: dict[str, Any] | None):
    """A context in which rules validate against ``sets`` (spec.CODE_SETS), when the rule language has code sets."""
    import contextlib

    from scrubber.rules import spec

    variable = getattr(spec, "CODE_SETS", None)
    if sets is None or variable is None:
        return contextlib.nullcontext()

    @contextlib.contextmanager
    def scope():
        token = variable.set(sets)
        try:
            yield
        finally:
            variable.reset(token)

    return scope()


def _duplicate_ids(documents: Sequence[_Document]) -> list[RuleProblem]:
    """Rule ids and aliases used twice (in one file or across files), read from every rule mapping that has them,
    valid or not; the later use is the problem, and its message points at the earlier one."""
    seen: dict[str, tuple[_Document, list[PathPart]]] = {}
    problems = []
    for document in documents:
        raw_rules, _ = _raw_rules(document)
        for prefix, raw in raw_rules:
            rule_id = raw.get("id") if isinstance(raw.get("id"), str) else None
            names: list[tuple[str, list[PathPart]]] = [(rule_id, [*prefix, "id"])] if rule_id else []
            aliases = raw.get("aliases")
            if isinstance(aliases, list):
                names += [(alias, [*prefix, "aliases", i]) for i, alias in enumerate(aliases) if isinstance(alias, str)]
            for name, parts in names:
                if name not in seen:
                    seen[name] = (document, parts)
                    continue
                first, first_parts = seen[name]  # lines are looked up only now: composing every file is slow
                first_line = first.line_of(first_parts)
                where = f"{first.path}:{first_line}" if first_line else str(first.path)
                problems.append(
                    RuleProblem(
                        str(document.path), document.line_of(parts), format_path(parts),
                        f"rule id {name!r} is already used in {where}", rule=rule_id,
                    )
                )
    return problems


def _load(files: Sequence[Path], named: Sequence[Path] = ()) -> tuple[list[RuleSpec], list[RuleProblem]]:
    """Every rule of ``files`` and every problem: read each file; load the code sets among them (and beside the
    rule files in ``named``); then validate the rules against those sets and check their ids."""
    documents: list[_Document] = []
    problems: list[RuleProblem] = []
    for file in _unique(files):
        document, found = _read(file)
        problems += found
        if document is not None:
            documents.append(document)
    set_documents = [document for document in documents if is_code_set(document.data)]
    rule_documents = [document for document in documents if not is_code_set(document.data)]
    known = {document.path.resolve() for document in documents}
    for file in _sibling_code_set_files(named, known):
        document, found = _read(file)
        if document is not None:
            set_documents.append(document)
    sets, found = _load_code_sets(set_documents)
    problems += found
    # a set whose file is broken is reported there, not again at each rule naming it
    broken = {d.data["name"] for d in set_documents if isinstance(d.data.get("name"), str)} - set(sets or {})
    rules: list[RuleSpec] = []
    with _with_code_sets(sets):
        for document in rule_documents:
            loaded, found = _validate_document(document)
            rules += loaded
            problems += [p for p in found if not any(f"unknown code set {name!r}" in p.message for name in broken)]
    problems += _duplicate_ids(rule_documents)
    return rules, problems


def load_rule_file(path: Path) -> list[RuleSpec]:
    """The rules of one file (with the code sets beside it); RuleLoadError lists every problem in it."""
    rules, problems = _load([Path(path)], named=[Path(path)])
    if problems:
        raise RuleLoadError(problems)
    return rules


def load_rules(paths: Iterable[str | Path] | None = None, *, include_bundled: bool | None = None) -> list[RuleSpec]:
    """Load the bundled rules (default), or the given files/directories (plus the bundled ones if asked).

    Code-set files among them (or beside a rule file named on its own) are loaded too, and the rules may name
    their sets. Every file is read, whatever the others hold; RuleLoadError lists every problem of every file."""
    files: list[Path] = []
    problems: list[RuleProblem] = []
    named: list[Path] = []
    if paths is None or include_bundled:
        files.extend(bundled_rule_files())
    if paths is not None:
        paths = [Path(path) for path in paths]
        found, problems = expand_rule_paths(paths)
        files.extend(found)
        named = [path for path in paths if path.is_file()]
    rules, found = _load(files, named)
    problems += found
    if problems:
        raise RuleLoadError(problems)
    return rules
