"""Payer profiles: what differs from payer to payer, as YAML a billing team can edit without code.

A profile says which claims it covers (payer ids, else claim filing indicators SBR09), the timely
filing limit (in days, or in calendar months after the date of service) with its source, or none, whether behavioral-health services need prior authorization, opt-in
rules to enable, rules to disable and severities to change. A claim takes the first profile whose
payer ids list its payer id, else the first whose filing indicators hold its SBR09, else none.
"""

from __future__ import annotations

import calendar
import datetime as dt
from functools import lru_cache
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
    # or in calendar months: 12 is "one calendar year after the date of service" (Medicare), which is 366
    # days when the span holds February 29
    timely_filing_months: int | None = Field(default=None, gt=0)
    timely_filing_source: str | None = None
    behavioral_health_prior_auth: bool = False
    behavioral_health_prior_auth_source: str | None = None
    enable: list[str] = Field(default_factory=list)  # opt-in rule ids
    disable: list[str] = Field(default_factory=list)
    severity: dict[str, Literal["error", "warning", "info"]] = Field(default_factory=dict)
    file: str | None = None

    @model_validator(mode="after")
    def _sourced(self) -> "PayerProfile":
        if self.timely_filing_days is not None and self.timely_filing_months is not None:
            raise ValueError("give timely_filing_days or timely_filing_months, not both")
        if (self.timely_filing_days or self.timely_filing_months) and not (self.timely_filing_source or "").strip():
            raise ValueError("a timely filing limit needs timely_filing_source (contract, manual or regulation)")
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


def filing_deadline(service_date: dt.date, profile: PayerProfile) -> dt.date | None:
    """The last day a service of ``service_date`` may be filed under ``profile`` (None: no limit known)."""
    return _deadline(service_date, profile.timely_filing_days, profile.timely_filing_months)


@lru_cache(maxsize=8192)  # a batch has few dates of service and few profiles: three calls per claim become lookups
def _deadline(service_date: dt.date, days: int | None, months: int | None) -> dt.date | None:
    if days is not None:
        return service_date + dt.timedelta(days=days)
    if months is not None:
        month = service_date.month - 1 + months
        year, month = service_date.year + month // 12, month % 12 + 1
        # the same day of the month, or the month's last day (2024-02-29 + 12 months is 2025-02-28)
        return dt.date(year, month, min(service_date.day, calendar.monthrange(year, month)[1]))
    return None


def filing_limit_text(profile: PayerProfile) -> str | None:
    """``90 days``, ``12 calendar months``: the limit as messages say it."""
    if profile.timely_filing_days is not None:
        return f"{profile.timely_filing_days} days"
    if profile.timely_filing_months is not None:
        months = profile.timely_filing_months
        return "one calendar year" if months == 12 else f"{months} calendar months"
    return None
