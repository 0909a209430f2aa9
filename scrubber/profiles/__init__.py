"""Payer profiles: what differs from payer to payer, as YAML a billing team can edit without code.

A profile says which claims it covers (payer ids, else claim filing indicators SBR09), the timely
filing limit with its source, whether behavioral-health services need prior authorization, opt-in
rules to enable, rules to disable and severities to change. A claim takes the first profile whose
payer ids list its payer id, else the first whose filing indicators hold its SBR09, else none.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Iterable, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from scrubber.errors import ScrubberUserError
from scrubber.model import Claim
from scrubber.yamlio import load_yaml


class ProfileLoadError(ScrubberUserError):
    """A profile file is unusable; the message names the file and the field."""


class ProfileMatch(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    payer_ids: list[str] = Field(default_factory=list)  # 2010BB NM109
    filing_indicators: list[str] = Field(default_factory=list)  # 2000B SBR09


class PayerProfile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=r"^[a-z0-9]+(-[a-z0-9]+)*$")
    name: str
    match: ProfileMatch
    timely_filing_days: int | None = Field(default=None, gt=0)
    timely_filing_source: str | None = None
    behavioral_health_prior_auth: bool = False
    behavioral_health_prior_auth_source: str | None = None
    enable: list[str] = Field(default_factory=list)  # opt-in rule ids
    disable: list[str] = Field(default_factory=list)
    severity: dict[str, Literal["error", "warning", "info"]] = Field(default_factory=dict)
    file: str | None = None

    @model_validator(mode="after")
    def _sourced(self) -> "PayerProfile":
        if self.timely_filing_days is not None and not (self.timely_filing_source or "").strip():
            raise ValueError("timely_filing_days needs timely_filing_source (contract, manual or regulation)")
        if not (self.match.payer_ids or self.match.filing_indicators):
            raise ValueError("match needs payer_ids or filing_indicators")
        return self


class ProfileSet:
    """All loaded profiles, with a fast per-claim lookup."""

    def __init__(self, profiles: Iterable[PayerProfile]):
        self.profiles = list(profiles)
        self._by_payer_id: dict[str, PayerProfile] = {}
        self._by_filing: dict[str, PayerProfile] = {}
        for profile in self.profiles:
            for payer_id in profile.match.payer_ids:
                self._by_payer_id.setdefault(payer_id, profile)
            for code in profile.match.filing_indicators:
                self._by_filing.setdefault(code, profile)

    def for_claim(self, claim: Claim) -> PayerProfile | None:
        payer = claim.payer
        if payer.payer_id and payer.payer_id in self._by_payer_id:
            return self._by_payer_id[payer.payer_id]
        if payer.filing_indicator:
            return self._by_filing.get(payer.filing_indicator)
        return None

    def referenced_rules(self) -> set[str]:
        return {rule for profile in self.profiles for rule in (*profile.enable, *profile.disable, *profile.severity)}


def bundled_profile_files() -> list[Path]:
    with resources.as_file(resources.files(__package__)) as directory:
        return sorted(Path(directory).glob("*.yaml"))


def load_profile_file(path: Path) -> PayerProfile:
    try:
        document = load_yaml(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as error:
        raise ProfileLoadError(f"{path}: cannot read YAML: {error}") from None
    if not isinstance(document, dict):
        raise ProfileLoadError(f"{path}: expected a mapping")
    try:
        return PayerProfile.model_validate({**document, "file": str(path)})
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in problem['loc']) or 'profile'}: {problem['msg']}" for problem in error.errors()
        )
        raise ProfileLoadError(f"{path}: {problems}") from None


def load_profiles(paths: Iterable[str | Path] | None = None, *, include_bundled: bool = True) -> ProfileSet:
    """User profiles first (so they win a payer id or filing indicator), then the bundled ones."""
    files: list[Path] = []
    for path in map(Path, paths or []):
        if path.is_dir():
            files.extend(sorted(path.glob("*.y*ml")))
        elif path.exists():
            files.append(path)
        else:
            raise ProfileLoadError(f"{path}: no such profile file or directory")
    if include_bundled:
        files.extend(bundled_profile_files())
    by_id: dict[str, PayerProfile] = {}
    for profile in map(load_profile_file, files):
        by_id.setdefault(profile.id, profile)  # a user profile with a bundled id replaces it
    return ProfileSet(by_id.values())
