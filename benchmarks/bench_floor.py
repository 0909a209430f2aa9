"""The floor under ``scrubber check``: what the parts every design here must keep cost on their own.

    python benchmarks/bench_floor.py [--claims 200000] [--file PATH] [--rounds 3]

Issue 15 asks for one core within 20x a bare segment split. This script measures, on the same file, the
work no change to our own code can remove while the check keeps what the issues require:

- ``start-up``: ``scrubber check`` of a one-claim file (interpreter, imports, rules, engine), best of 5;
- ``tokenize``: the least any X12 reader does: split the text into segments and each segment into
  elements (``text.split(terminator)`` then ``segment.split(separator)``), nothing else;
- ``models``: pydantic validation of each claim into ``scrubber.model.Claim`` (the public model), from
  the dicts the reader builds (prepared before the clock starts; issue 15 allows skipping validation
  only if something as strict replaces it, and a plain-Python constructor was measured slower);
- ``durable_rules``: the C engine deciding the bundled rules (``scrubber check``'s rulesets) for each
  claim and line fact, carrying only ``id`` and ``kind``: assert, the actions it fires (one per fact, the
  catch-all that proves every fact was seen), retract. No pre-pass, no fact values;
- ``json``: ``json.dumps`` of each claim's result (a clean claim's six keys).

It also times, beside the floor, the same models built with no validation at all by a plain-Python
constructor (checked equal to the validated ones on 2,000 claims): the price of skipping validation.

Each part is timed alone (best of ``--rounds``) in this process, models, durable_rules and json on the
file's first 20,000 claims (at most) and scaled to all of them, tokenize on the whole file; the bare split is a whole ``python -c``
process (read the bytes, ``split`` on the terminator), as ``bench_all.py`` and the issue measure it.
The sum is a floor, not an estimate: it leaves out mapping segments to fields, the integrity checks, the
facts and the pre-pass. When the floor alone is above 20x the split, the target needs a part replaced
(a compiled reader or model, another rule engine), not a faster version of ours.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from bench_check import child_env, ensure_file, machine_info  # noqa: E402

SAMPLE = 20_000  # claims whose reader dicts are held in memory for the per-claim parts
SPLIT = "import sys\ndata = open(sys.argv[1], 'rb').read()\nprint(len(data.split(data[105:106])))\n"


def whole_process(args: list[str], rounds: int) -> float:
    best = float("inf")
    env = child_env()
    for _ in range(rounds):
        started = time.perf_counter()
        subprocess.run([sys.executable, *args], check=True, capture_output=True, env=env)
        best = min(best, time.perf_counter() - started)
    return best


def best(rounds: int, work) -> float:
    times = []
    for _ in range(rounds):
        gc.collect()
        started = time.perf_counter()
        work()
        times.append(time.perf_counter() - started)
    return min(times)


def one_claim_file(path: Path, directory: str) -> Path:
    """The file's first claim alone, as an 837P (written by our writer)."""
    from scrubber.model import Claim
    from scrubber.readers.x12_837p import read_path
    from scrubber.writers.x12_837p import write

    first = next(item for item in read_path(path) if isinstance(item, Claim))
    target = Path(directory) / "one.837"
    target.write_text(write([first]), encoding="latin-1")
    return target


def reader_dicts(path: Path, limit: int) -> list[dict]:
    """The dicts the 837P reader hands to pydantic for the file's first ``limit`` claims (recorded as it reads)."""
    from scrubber.readers import x12_837p
    from scrubber.readers.x12_reader import X12Reader

    recorded: list[dict] = []
    original = X12Reader.validated

    def recording(self, model, builder, what, **extra):
        recorded.append(builder.data)
        return original(self, model, builder, what, **extra)

    X12Reader.validated = recording
    try:
        for _ in x12_837p.read_path(path):
            if len(recorded) >= limit:
                break
    finally:
        X12Reader.validated = original
    return recorded[:limit]


def plain_constructor():
    """Build a ``Claim`` from the reader's dicts with no validation at all (pydantic's ``model_construct``
    done by hand, nested models included): what skipping validation would save, at best."""
    import typing

    from pydantic import BaseModel

    new, set_attribute = object.__new__, object.__setattr__
    plans: dict[type, tuple] = {}

    def plan(cls: type) -> tuple:
        kinds, defaults, factories = {}, {}, {}
        for name, field in cls.model_fields.items():
            kind, sub = "scalar", None
            for candidate in (field.annotation, *typing.get_args(field.annotation)):
                if typing.get_origin(candidate) is tuple:
                    inner = typing.get_args(candidate)[0]
                    kind, sub = ("models", inner) if isinstance(inner, type) and issubclass(inner, BaseModel) else ("tuple", None)
                    break
                if isinstance(candidate, type) and issubclass(candidate, BaseModel):
                    kind, sub = "model", candidate
                    break
            kinds[name] = (kind, sub)
            if field.default_factory is not None:
                factories[name] = field.default_factory
            else:
                defaults[name] = field.default
        return kinds, defaults, factories

    def build(cls: type, data: dict):
        found = plans.get(cls)
        if found is None:
            found = plans[cls] = plan(cls)
        kinds, defaults, factories = found
        values = dict(defaults)
        for name, factory in factories.items():
            values[name] = factory()
        for name, value in data.items():
            kind, sub = kinds[name]
            if kind == "scalar" or value is None:
                values[name] = value
            elif kind == "model":
                values[name] = build(sub, value)
            elif kind == "models":
                values[name] = tuple([build(sub, item) for item in value])
            else:
                values[name] = tuple(value)
        model = new(cls)
        set_attribute(model, "__dict__", values)
        set_attribute(model, "__pydantic_fields_set__", set(data))
        set_attribute(model, "__pydantic_extra__", None)
        set_attribute(model, "__pydantic_private__", None)
        return model

    return build


def tokenize(path: Path, terminator: bytes, separator: str) -> None:
    """Split the file into segments and elements, a megabyte at a time (memory stays flat)."""
    rest = ""
    with open(path, "rb") as stream:
        while True:
            chunk = stream.read(1 << 20)
            if not chunk:
                break
            text = rest + chunk.decode("latin-1")
            cut = text.rfind(terminator)
            rest = text[cut + 1 :]
            for segment in text[: cut + 1].split(terminator):
                segment.split(separator)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--claims", type=int, default=200_000, help="claims in the generated file (default 200000)")
    source.add_argument("--file", type=Path, help="an 837P file to use instead of a generated one")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    path = args.file or ensure_file(args.claims, args.seed)

    import durable_rules_engine as engine

    from scrubber.api import build_scrubber
    from scrubber.model import Claim
    from scrubber.options import ScrubOptions
    from scrubber.readers.x12_837p import read_path

    print(f"reading {path} ...", file=sys.stderr)
    gc.set_threshold(10000, 20, 20)  # as the CLI sets it
    count = sum(1 for item in read_path(path) if isinstance(item, Claim))
    dicts = reader_dicts(path, SAMPLE)
    scale = count / len(dicts)  # the per-claim parts are timed on the sample
    gc.freeze()
    with open(path, "rb") as stream:
        head = stream.read(106).decode("latin-1")
    terminator, separator = head[105], head[3]
    size = path.stat().st_size

    seconds: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as directory:
        one = one_claim_file(path, directory)
        seconds["start-up"] = whole_process(
            ["-m", "scrubber", "check", str(one), "--format", "json", "-o", os.devnull, "--exit-zero", "--no-progress", "--jobs", "1"], 5
        )
    split = whole_process(["-c", SPLIT, str(path)], 5)
    seconds["tokenize"] = best(args.rounds, lambda: tokenize(path, terminator, separator))

    validate = Claim.model_validate

    def models() -> None:
        for data in dicts:
            validate(data)

    seconds["models"] = best(args.rounds, models) * scale

    build = plain_constructor()
    if any(build(Claim, data) != validate(data) for data in dicts[:2000]):
        raise SystemExit("the plain constructor does not build the models validation builds")

    def constructed() -> None:
        for data in dicts:
            build(Claim, data)

    unvalidated = best(args.rounds, constructed) * scale

    scrubber = build_scrubber(ScrubOptions())
    shards = scrubber.engine._shards  # (scope, handle, rule names, keys): the check's own rulesets
    batch = scrubber.batch_size
    payloads: list[tuple[int, str, str]] = []  # (handle, facts, retraction) per batch and shard
    for start in range(0, len(dicts), batch):
        facts = {"claim": [], "line": []}
        for position in range(start, min(start + batch, len(dicts))):
            facts["claim"].append({"id": str(position), "kind": "claim"})
            for line in range(len(dicts[position].get("lines", ()))):
                facts["line"].append({"id": f"{position}.{line}", "kind": "line"})
        for scope, handle, _, _ in shards:
            if facts[scope]:
                ids = json.dumps([{"id": fact["id"]} for fact in facts[scope]])
                payloads.append((handle, json.dumps(facts[scope]), ids))

    def durable() -> None:
        for handle, payload, retraction in payloads:
            state = engine.assert_facts(handle, payload)[1]
            started = engine.start_action_for_state(handle, state)
            message = started[1] if started else None
            while message:
                message = engine.complete_and_start_action(handle, state)
            engine.retract_facts(handle, retraction)

    seconds["durable_rules"] = best(args.rounds, durable) * scale

    results = [
        {"claim_id": data.get("claim_id"), "file": str(path), "segment": 0, "status": "clean", "profile": None, "findings": []}
        for data in dicts
    ]

    def dumps() -> None:
        for result in results:
            json.dumps(result)

    seconds["json"] = best(args.rounds, dumps) * scale

    floor = sum(seconds.values())
    print(f"# The floor under `scrubber check`: {count:,} claims, {size / 1e6:.1f} MB ({path.name})\n")
    print("machine: " + "; ".join(machine_info()) + "\n")
    print("| part | seconds | µs per claim | x the bare split |")
    print("|---|---:|---:|---:|")
    print(f"| bare split (whole process) | {split:.3f} | {split / count * 1e6:.1f} | 1.0 |")
    for name, value in seconds.items():
        print(f"| {name} | {value:.3f} | {value / count * 1e6:.1f} | {value / split:.1f} |")
    print(f"| **floor (sum of the parts)** | **{floor:.3f}** | **{floor / count * 1e6:.1f}** | **{floor / split:.1f}** |")
    print(f"\nFor comparison, not in the floor: the same models built with no validation at all by a plain-Python "
          f"constructor take {unvalidated:.3f} s ({unvalidated / count * 1e6:.1f} µs per claim), against validation's "
          f"{seconds['models']:.3f} s: skipping pydantic's checks would not lower the floor.")
    print(f"\n20x the bare split is {20 * split:.2f} s; the floor is {floor / split:.1f}x it "
          f"({'above' if floor > 20 * split else 'below'} the target before any of the check's own work).")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
