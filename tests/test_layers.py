"""Layers stay layers: a lower layer never imports an upper one (issue 10).

Every module under ``scrubber/`` is parsed with ``ast`` (nothing is imported); every import counts:
module level, inside functions and classes, under ``if TYPE_CHECKING:``, ``import a.b``,
``from a import b`` (``b`` a submodule or a name), relative imports, and
``importlib.import_module("scrubber....")`` with a literal name. A module belongs to the layer of the
longest entry of ``LAYERS`` that names it or one of its packages; it may import its own layer and the
layers below, never one above. Lowest first::

    layer  name              modules
    0      base              scrubber.errors, scrubber.yamlio, scrubber.x12map, scrubber.model
    1      readers/writers   scrubber.readers, scrubber.writers, scrubber.mappings, scrubber.codesets,
                             scrubber.profiles, scrubber.inputs, scrubber.tables
    2      facts             scrubber.facts
    3      rules/engine      scrubber.rules, scrubber.rulesets, scrubber.engine
    4      findings          scrubber.findings, scrubber.pipeline, scrubber.remit,
                             scrubber.rules.testing
    5      reporters         scrubber.reporters, scrubber.redact
    6      api               scrubber.api, scrubber.options, scrubber.parallel, scrubber.arrow, scrubber.validate_ig,
                             scrubber.spark, scrubber.config, scrubber.baseline, scrubber.explain,
                             scrubber.progress
    7      commands/service  scrubber.commands, scrubber.cli, scrubber.service, scrubber.__main__,
                             scrubber (the package __init__: its lazy public API may import anything)

Placement notes (why a module sits where it does):

- ``inputs`` picks a reader by content and calls it: the readers' front door, with them in layer 1
  (``remit.load`` and ``remit.backtest`` discover and read claim files through it).
- ``mappings`` holds the bundled CSV mappings and the definitions readers and writers share
  (``csv_columns``: mapping schema and targets; ``fhir_codes``: code systems and code tables).
- ``rules.testing`` runs rule cases through the whole pipeline (``pipeline.Scrubber``): a consumer of
  layer 4 that lives in the rules package, so it is placed in layer 4, not with the rules.
- ``remit`` matches remittances to claims and backtests rules on them (``findings``, ``inputs``,
  ``rules.spec``): layer 4, beside ``findings``; ``explain`` (layer 6) uses its CARC table.
- ``rulesets`` holds the bundled rule files (data that ``rules.load`` reads): with the rules.
- ``options`` (``ScrubOptions``) is what the entry points take (``api``, ``parallel``, ``arrow``,
  ``service``, ``config``): the API's record, in layer 6 with them; nothing below needs it.
- ``redact`` rewrites reports and wraps reporters (``Redactor.wrap``): layer 5, so a reporter may use it.
- ``config``, ``baseline``, ``progress``, ``explain``: what ``commands`` use around a scrub; nothing below
  ``api`` needs them.

Within a layer imports are free, except these contracts (``FORBIDDEN``):

- readers and writers are peers: a writer never imports a reader's module, nor a reader a writer's
  (what both need lives in ``scrubber.mappings`` or below);
- ``scrubber.mappings`` is neutral ground: it imports neither readers nor writers;
- reporters render what they are given: they never load rules (``scrubber.rules.load``,
  ``load_rules``); the caller passes the rules in.

The one allowed upward name: ``from scrubber import __version__`` (a constant of the root package,
which Python imports before any of its modules anyway).

A module that no entry places fails ``test_every_module_has_a_layer``: add it to ``LAYERS``.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = "scrubber"

LAYER_NAMES = {
    0: "base",
    1: "readers/writers",
    2: "facts",
    3: "rules/engine",
    4: "findings",
    5: "reporters",
    6: "api",
    7: "commands/service",
}

# module or package -> layer; the longest entry naming a module or one of its packages wins.
# "scrubber" itself names only the package's __init__ (every module is inside that package).
LAYERS: dict[str, int] = {
    "scrubber.errors": 0,
    "scrubber.yamlio": 0,
    "scrubber.x12map": 0,
    "scrubber.model": 0,
    "scrubber.readers": 1,
    "scrubber.writers": 1,
    "scrubber.mappings": 1,
    "scrubber.codesets": 1,
    "scrubber.tables": 1,
    "scrubber.profiles": 1,
    "scrubber.inputs": 1,
    "scrubber.facts": 2,
    "scrubber.rules": 3,
    "scrubber.rulesets": 3,
    "scrubber.engine": 3,
    "scrubber.findings": 4,
    "scrubber.pipeline": 4,
    "scrubber.validate_ig": 6,  # it redacts pyx12's messages itself (scrubber.redact), so it sits above reporters
    "scrubber.remit": 4,
    "scrubber.rules.testing": 4,
    "scrubber.reporters": 5,
    "scrubber.redact": 5,
    "scrubber.api": 6,
    "scrubber.options": 6,
    "scrubber.parallel": 6,
    "scrubber.arrow": 6,
    "scrubber.spark": 6,
    "scrubber.config": 6,
    "scrubber.baseline": 6,
    "scrubber.explain": 6,
    "scrubber.progress": 6,
    "scrubber.commands": 7,
    "scrubber.cli": 7,
    "scrubber.service": 7,
    "scrubber.__main__": 7,
    "scrubber": 7,
}


@dataclass(frozen=True)
class Forbidden:
    importer: str  # module or package
    target: str  # module or package
    names: frozenset[str] | None  # only these names imported from ``target`` (None: any import of it)
    why: str


FORBIDDEN = (
    Forbidden("scrubber.writers", "scrubber.readers", None, "readers and writers are peers; share through scrubber.mappings or below"),
    Forbidden("scrubber.readers", "scrubber.writers", None, "readers and writers are peers; share through scrubber.mappings or below"),
    Forbidden("scrubber.mappings", "scrubber.readers", None, "scrubber.mappings is neutral ground between readers and writers"),
    Forbidden("scrubber.mappings", "scrubber.writers", None, "scrubber.mappings is neutral ground between readers and writers"),
    Forbidden("scrubber.reporters", "scrubber.rules.load", None, "reporters render the rules they are given; the caller loads them"),
    Forbidden(
        "scrubber.reporters",
        "scrubber.rules",
        frozenset({"load_rules", "bundled_rule_files"}),
        "reporters render the rules they are given; the caller loads them",
    ),
)

# (module, name) any layer may import: the root package's version constant.
ALLOWED_NAMES = frozenset({("scrubber", "__version__")})


# --- the scanner ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Import:
    importer: str
    path: Path
    line: int
    target: str | None  # the module imported (None: no such module under the package)
    written: str  # the module as the code names it
    name: str | None  # the name imported from ``target`` (``from target import name``), if not a module
    root_relative: str  # the file, relative to the scanned root (``scrubber/findings.py``)


def discover(root: Path, package: str) -> dict[str, Path]:
    """Every module of ``package`` (at ``root/package``): dotted name -> file."""
    modules = {}
    for path in sorted((root / package).rglob("*.py")):
        parts = path.relative_to(root).with_suffix("").parts
        if "__pycache__" in parts:
            continue
        if parts[-1] == "__init__":
            parts = parts[:-1]
        modules[".".join(parts)] = path
    return modules


def _is_package(path: Path) -> bool:
    return path.name == "__init__.py"


def _absolute(importer: str, path: Path, level: int, module: str | None) -> str:
    """``from ..x import y`` in ``importer`` -> the absolute name of ``..x``."""
    base = importer.split(".") if _is_package(path) else importer.split(".")[:-1]
    if level > 1:
        base = base[: len(base) - (level - 1)]
    return ".".join([*base, *([module] if module else [])])


def _existing(name: str, modules: dict[str, Path]) -> str | None:
    return name if name in modules else None


def _literal_import_module(node: ast.Call) -> str | None:
    """The module of ``importlib.import_module("scrubber.x")`` / ``import_module("scrubber.x")``."""
    func = node.func
    called = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else None
    if called not in ("import_module", "__import__") or not node.args:
        return None
    first = node.args[0]
    if isinstance(first, ast.Constant) and isinstance(first.value, str):
        return first.value
    return None


def scan(root: Path, package: str) -> tuple[dict[str, Path], list[Import]]:
    """The modules of ``package`` and every import of one of them, anywhere in their code."""
    modules = discover(root, package)
    imports: list[Import] = []

    def ours(name: str) -> bool:
        return name == package or name.startswith(package + ".")

    for importer, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        shown = path.relative_to(root).as_posix()
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    if ours(alias.name):
                        imports.append(Import(importer, path, node.lineno, _existing(alias.name, modules), alias.name, None, shown))
            elif isinstance(node, ast.ImportFrom):
                written = _absolute(importer, path, node.level, node.module) if node.level else node.module or ""
                if not ours(written):
                    continue
                for alias in node.names:
                    submodule = f"{written}.{alias.name}"
                    if submodule in modules:  # from scrubber import codesets
                        imports.append(Import(importer, path, node.lineno, submodule, submodule, None, shown))
                    else:
                        name = None if alias.name == "*" else alias.name
                        imports.append(Import(importer, path, node.lineno, _existing(written, modules), written, name, shown))
            elif isinstance(node, ast.Call):
                written = _literal_import_module(node)
                if written and ours(written):
                    imports.append(Import(importer, path, node.lineno, _existing(written, modules), written, None, shown))
    return modules, imports


def _covers(entry: str, module: str, package: str) -> bool:
    if entry == package:
        return module == package
    return module == entry or module.startswith(entry + ".")


def layer_entry(module: str, layers: dict[str, int] = LAYERS, package: str = PACKAGE) -> str | None:
    """The ``layers`` entry that places ``module``: the longest one naming it or one of its packages."""
    entries = [entry for entry in layers if _covers(entry, module, package)]
    return max(entries, key=len) if entries else None


def layer_of(module: str, layers: dict[str, int] = LAYERS, package: str = PACKAGE) -> int | None:
    entry = layer_entry(module, layers, package)
    return layers[entry] if entry is not None else None


def _where(item: Import) -> str:
    return f"{item.root_relative}:{item.line}"


def _layer_text(layer: int) -> str:
    return f"layer {layer} {LAYER_NAMES.get(layer, '?')}"


def _grouped(problems: list[tuple[Import, str]]) -> list[str]:
    """One message per import statement and target: ``from x import a, b`` names both."""
    seen: dict[tuple[str, int, str | None, str], tuple[Import, list[str]]] = {}
    for item, text in problems:
        key = (item.importer, item.line, item.target, text)
        names = seen.setdefault(key, (item, []))[1]
        if item.name and item.name not in names:
            names.append(item.name)
    messages = []
    for (_, _, target, text), (item, names) in seen.items():
        shown = f"{target} ({', '.join(names)})" if names else str(target)
        messages.append(text.format(where=_where(item), importer=item.importer, target=shown))
    return messages


def layer_violations(imports: list[Import], layers: dict[str, int] = LAYERS, package: str = PACKAGE) -> list[str]:
    problems = []
    for item in imports:
        if item.target is None or (item.target, item.name) in ALLOWED_NAMES:
            continue
        low, high = layer_of(item.importer, layers, package), layer_of(item.target, layers, package)
        if low is None or high is None or high <= low:
            continue
        text = (
            f"{{where}}: {{importer}} ({_layer_text(low)}) imports {{target}} ({_layer_text(high)}): "
            "a lower layer must not import an upper one"
        )
        problems.append((item, text))
    return _grouped(problems)


def contract_violations(imports: list[Import], forbidden=FORBIDDEN, package: str = PACKAGE) -> list[str]:
    problems = []
    for item in imports:
        if item.target is None:
            continue
        for rule in forbidden:
            if not _covers(rule.importer, item.importer, package) or not _covers(rule.target, item.target, package):
                continue
            if rule.names is not None and (item.target != rule.target or item.name not in rule.names):
                continue
            problems.append((item, f"{{where}}: {{importer}} imports {{target}}: {rule.why}"))
    return _grouped(problems)


def render_table(layers: dict[str, int] = LAYERS) -> dict[int, list[str]]:
    table: dict[int, list[str]] = {}
    for entry, layer in layers.items():
        table.setdefault(layer, []).append(entry)
    return table


# --- the project ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def project() -> tuple[dict[str, Path], list[Import]]:
    return scan(ROOT, PACKAGE)


def test_every_module_has_a_layer(project):
    modules, imports = project
    unplaced = sorted(module for module in modules if layer_of(module) is None)
    assert not unplaced, f"modules without a layer (add them to LAYERS in {Path(__file__).name}): {', '.join(unplaced)}"
    unknown = [f"{_where(item)}: {item.importer} imports {item.written}, no module under scrubber/" for item in imports if item.target is None]
    assert not unknown, "\n".join(unknown)


def test_layer_table_names_existing_modules():
    stale = []
    for entry in LAYERS:
        relative = Path(*entry.split("."))
        if not ((ROOT / relative).is_dir() or (ROOT / relative).with_suffix(".py").is_file()):
            stale.append(entry)
    assert not stale, f"LAYERS names modules that do not exist: {', '.join(stale)}"
    assert set(LAYERS.values()) == set(LAYER_NAMES)


def test_no_lower_layer_imports_an_upper_one(project):
    _, imports = project
    problems = layer_violations(imports)
    assert not problems, f"{len(problems)} upward import(s):\n" + "\n".join(problems)


def test_contracts_within_layers(project):
    _, imports = project
    problems = contract_violations(imports)
    assert not problems, f"{len(problems)} forbidden import(s):\n" + "\n".join(problems)


def test_docstring_shows_the_table():
    """The table in this module's docstring is ``LAYERS`` (so it cannot drift)."""
    doc = __doc__ or ""
    block = doc.split("Lowest first::", 1)[1].split("Placement notes", 1)[0]
    rows: dict[int, list[str]] = {}
    current = None
    for line in block.splitlines():
        match = re.match(r"\s+(\d)\s{2,}(\S+)\s{2,}(.*)$", line)
        if match:
            current = int(match.group(1))
            assert LAYER_NAMES[current] == match.group(2), line
            text = match.group(3)
        elif current is not None and line.strip() and not line.strip().startswith("layer"):
            text = line.strip()
        else:
            continue
        text = re.sub(r"\(.*?\)", "", text)
        rows.setdefault(current, []).extend(name.strip() for name in text.split(",") if name.strip())
    assert {layer: sorted(names) for layer, names in rows.items()} == {
        layer: sorted(names) for layer, names in render_table().items()
    }


# --- the scanner on a small package --------------------------------------------------------------


def _package(tmp_path: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return tmp_path


TOY_LAYERS = {"toy.low": 0, "toy.high": 1, "toy": 1}


def test_scanner_finds_every_kind_of_upward_import(tmp_path):
    root = _package(
        tmp_path,
        {
            "toy/__init__.py": "",
            "toy/high/__init__.py": "VALUE = 1\n",
            "toy/high/deep.py": "",
            "toy/low/__init__.py": "",
            "toy/low/a.py": "import toy.high.deep\n",
            "toy/low/b.py": "def f():\n    from toy.high import VALUE\n    return VALUE\n",
            "toy/low/c.py": "from ..high import deep\n",
            "toy/low/d.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from toy import high\n",
            "toy/low/e.py": "import importlib\n\ndef g():\n    return importlib.import_module('toy.high.deep')\n",
            "toy/low/f.py": "from . import a\nfrom .a import x\nimport json\n",
            "toy/low/g.py": "import json\nfrom toy.high.deep import *\n",
        },
    )
    _, imports = scan(root, "toy")
    problems = layer_violations(imports, TOY_LAYERS, "toy")
    assert [problem.split(": ", 1)[0] for problem in problems] == [
        "toy/low/a.py:1",
        "toy/low/b.py:2",
        "toy/low/c.py:1",
        "toy/low/d.py:3",
        "toy/low/e.py:4",
        "toy/low/g.py:2",
    ]
    assert problems[1] == (
        "toy/low/b.py:2: toy.low.b (layer 0 base) imports toy.high (VALUE) (layer 1 readers/writers): "
        "a lower layer must not import an upper one"
    )
    assert "imports toy.high.deep (layer 1" in problems[2]  # relative, resolved to the submodule
    relative = {(item.importer, item.target) for item in imports if item.importer == "toy.low.f"}
    assert relative == {("toy.low.f", "toy.low.a")}


def test_scanner_places_modules_by_longest_entry():
    layers = {"scrubber": 7, "scrubber.rules": 3, "scrubber.rules.testing": 4}
    assert layer_of("scrubber.rules.spec", layers) == 3
    assert layer_of("scrubber.rules.testing", layers) == 4
    assert layer_of("scrubber", layers) == 7
    assert layer_of("scrubber.other", layers) is None  # the root entry names only the package's __init__


def test_contracts_catch_peers_and_named_imports(tmp_path):
    root = _package(
        tmp_path,
        {
            "toy/__init__.py": "",
            "toy/readers.py": "X = 1\n",
            "toy/writers.py": "from toy.readers import X\n",
            "toy/rules.py": "def load_rules(): ...\nclass Spec: ...\n",
            "toy/report.py": "from toy.rules import Spec\n\ndef f():\n    from toy.rules import load_rules\n",
        },
    )
    _, imports = scan(root, "toy")
    forbidden = (
        Forbidden("toy.writers", "toy.readers", None, "peers"),
        Forbidden("toy.report", "toy.rules", frozenset({"load_rules"}), "given, not loaded"),
    )
    assert contract_violations(imports, forbidden, "toy") == [
        "toy/report.py:4: toy.report imports toy.rules (load_rules): given, not loaded",
        "toy/writers.py:1: toy.writers imports toy.readers (X): peers",
    ]
