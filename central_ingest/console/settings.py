"""Settings of the operators' console that are about practice, not about the law."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class ConsoleSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    double_review_rate: float = Field(default=0.05, ge=0.0, le=1.0)
    """Share of confirmations drawn at random for a blind second review by another officer."""
    history_items: int = Field(default=8, ge=1, le=100)
    """How many earlier fixations and cases of the same plate the review screen lists."""
