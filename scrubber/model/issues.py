"""Input problems, kept apart from rule findings."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class ParseIssue(BaseModel):
    """Something in the input could not be read.

    ``claim_id`` is set when the problem made one claim unreadable (it is then reported with status
    ``unreadable``); without it the issue concerns the envelope (ISA/GS/ST/SE/GE/IEA) or the file.
    """

    model_config = ConfigDict(frozen=True)

    file: str | None = None
    segment: int | None = None  # 1-based position of the segment in the file (ISA = 1)
    location: str | None = None  # row number, JSON pointer, "ISA", ...
    claim_id: str | None = None
    unreadable_claim: bool = False
    claim_segment: int | None = None  # for an unreadable claim: where the claim starts (its CLM)
    severity: str = "error"  # "warning": the input was read, but not as its envelope declared
    message: str

    def where(self) -> str:
        parts = [self.file or "<input>"]
        if self.segment is not None:
            parts.append(f"segment {self.segment}")
        if self.location:
            parts.append(self.location)
        return ", ".join(parts)
