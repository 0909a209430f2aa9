"""``scrubber profiles``: the payer profiles a check applies (bundled, configured and ``--profiles`` ones).

For each profile: its id, what it matches (payer ids, else claim filing indicators SBR09), the timely
filing limit with its source, whether behavioral-health services need prior authorization (with its
source), and the rules it enables, disables or re-grades. Profiles are listed in the order a claim is
matched against them: the user's first (they win a payer id or filing indicator), then the bundled ones.
"""

from __future__ import annotations

import argparse
import json
import textwrap
from pathlib import Path
from typing import Any

from scrubber.commands.common import EXIT_CLEAN


def add_parser(commands: argparse._SubParsersAction) -> None:
    profiles = commands.add_parser(
        "profiles", help="list the payer profiles: what each matches, its timely filing limit, prior auth",
        description="List the payer profiles a check applies: the --profiles (or configured) ones first, "
        "then the bundled ones. A claim takes the first profile whose payer ids hold its payer id, else the "
        "first whose filing indicators hold its SBR09.",
    )
    profiles.add_argument(
        "--profiles", action="append", metavar="PATH",
        help="your own payer profiles (YAML files or directories), listed before the bundled ones they override "
        "(default: the configuration's)",
    )
    profiles.add_argument("--config", metavar="FILE", help="scrubber.toml or pyproject.toml (default: found upward from here)")
    profiles.add_argument("--format", choices=("text", "json"), default="text", help="output format (default: text)")


def matches_text(profile: Any) -> str:
    """``payer ids 12345, 67890; filing indicators MB``."""
    parts = []
    if profile.match.payer_ids:
        parts.append("payer ids " + ", ".join(profile.match.payer_ids))
    if profile.match.filing_indicators:
        parts.append("filing indicators (SBR09) " + ", ".join(profile.match.filing_indicators))
    return "; ".join(parts)


def profile_to_dict(profile: Any) -> dict[str, Any]:
    from scrubber.profiles import filing_limit_text

    return {
        "id": profile.id,
        "name": profile.name,
        "match": {"payer_ids": list(profile.match.payer_ids), "filing_indicators": list(profile.match.filing_indicators)},
        "timely_filing": filing_limit_text(profile),
        "timely_filing_days": profile.timely_filing_days,
        "timely_filing_months": profile.timely_filing_months,
        "timely_filing_source": profile.timely_filing_source,
        "behavioral_health_prior_auth": profile.behavioral_health_prior_auth,
        "behavioral_health_prior_auth_source": profile.behavioral_health_prior_auth_source,
        "enable": list(profile.enable),
        "disable": list(profile.disable),
        "severity": dict(profile.severity),
        "bundled": is_bundled(profile),
        "file": profile.file,
    }


def is_bundled(profile: Any) -> bool:
    from scrubber.profiles import bundled_profile_files

    return profile.file is not None and Path(profile.file).resolve() in {path.resolve() for path in bundled_profile_files()}


def _field(label: str, text: str | None, width: int = 100) -> list[str]:
    if not text:
        return []
    return textwrap.wrap(text, width=width, initial_indent=f"  {label:<15} ", subsequent_indent=" " * 18)


def profile_text(profile: Any) -> list[str]:
    from scrubber.profiles import filing_limit_text

    limit = filing_limit_text(profile)
    prior_auth = "required" if profile.behavioral_health_prior_auth else "not required"
    lines = [f"{profile.id}  {profile.name}" + ("" if is_bundled(profile) else f"  ({profile.file})")]
    lines += _field("matches", matches_text(profile))
    lines += _field("timely filing", f"{limit}; {profile.timely_filing_source}" if limit else "no limit set")
    source = profile.behavioral_health_prior_auth_source
    lines += _field("BH prior auth", f"{prior_auth}; {source}" if source else prior_auth)
    lines += _field("enables", ", ".join(profile.enable))
    lines += _field("disables", ", ".join(profile.disable))
    lines += _field("severity", ", ".join(f"{rule}: {level}" for rule, level in profile.severity.items()))
    return lines


def run(args: argparse.Namespace) -> int:
    from scrubber.config import find_config, load_config
    from scrubber.profiles import load_profiles

    config = load_config(Path(args.config) if args.config else find_config())
    profiles = load_profiles(config.scrub_options(profiles=args.profiles).profiles).profiles
    if args.format == "json":
        print(json.dumps([profile_to_dict(profile) for profile in profiles], indent=2))
        return EXIT_CLEAN
    for position, profile in enumerate(profiles):
        if position:
            print()
        print("\n".join(profile_text(profile)))
    return EXIT_CLEAN
