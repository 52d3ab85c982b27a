"""Voting one vehicle's plate reads, taken across frames, into one text.

A plate seen in twenty frames is misread in a few of them (O/0, I/1, B/8 swaps, a stray
character from a bolt or sticker). Reads are first grouped by similarity, so that a stray
different text in the same track (a sticker, a neighbouring plate) cannot outvote the plate;
in the strongest group, reads of the most supported length vote per character position,
each weighted by its recogniser confidence.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

DEFAULT_MIN_SIMILARITY = 0.6


@dataclass(frozen=True)
class Read:
    """One frame's read of a plate."""

    text: str
    confidence: float
    format: str


@dataclass(frozen=True)
class Vote:
    """The voted text of a track and how well the reads support it.

    `confidence` is that of the weakest character: its share of the weighted votes at its
    position times the mean confidence of the reads that voted for it.
    """

    text: str
    confidence: float
    format: str
    supporting_reads: int
    total_reads: int


def edit_distance(first: str, second: str) -> int:
    """Levenshtein distance (plates are short, so the quadratic table is cheap)."""
    previous = list(range(len(second) + 1))
    for row, first_char in enumerate(first, start=1):
        current = [row]
        for column, second_char in enumerate(second, start=1):
            current.append(
                min(
                    previous[column] + 1,
                    current[column - 1] + 1,
                    previous[column - 1] + (first_char != second_char),
                )
            )
        previous = current
    return previous[-1]


def similarity(first: str, second: str) -> float:
    """1.0 for equal texts, 0.0 for texts with nothing in common."""
    longest = max(len(first), len(second))
    if longest == 0:
        return 1.0
    return 1.0 - edit_distance(first, second) / longest


def group_similar(reads: Sequence[Read], min_similarity: float) -> list[list[Read]]:
    """Greedy grouping: each read, most confident first, joins the first group whose leader
    (its most confident read) it resembles, or leads a new group."""
    groups: list[list[Read]] = []
    for read in sorted(reads, key=lambda item: item.confidence, reverse=True):
        for group in groups:
            if similarity(group[0].text, read.text) >= min_similarity:
                group.append(read)
                break
        else:
            groups.append([read])
    return groups


def _total_weight(reads: Sequence[Read]) -> float:
    return sum(read.confidence for read in reads)


def vote(reads: Sequence[Read], min_similarity: float = DEFAULT_MIN_SIMILARITY) -> Vote | None:
    """The per-position, confidence-weighted vote of the strongest group of similar reads;
    None when there is no usable read."""
    usable = [read for read in reads if read.text and read.confidence > 0.0]
    if not usable:
        return None
    group = max(group_similar(usable, min_similarity), key=_total_weight)

    by_length: dict[int, list[Read]] = defaultdict(list)
    for read in group:
        by_length[len(read.text)].append(read)
    voters = max(by_length.values(), key=_total_weight)

    characters: list[str] = []
    confidence = 1.0
    for position in range(len(voters[0].text)):
        weights: dict[str, float] = defaultdict(float)
        counts: dict[str, int] = defaultdict(int)
        for read in voters:
            weights[read.text[position]] += read.confidence
            counts[read.text[position]] += 1
        winner = max(weights, key=lambda char: (weights[char], counts[char]))
        share = weights[winner] / sum(weights.values())
        mean_confidence = weights[winner] / counts[winner]
        characters.append(winner)
        confidence = min(confidence, share * mean_confidence)

    text = "".join(characters)
    supporters = [read for read in voters if read.text == text] or voters
    format_weights: dict[str, float] = defaultdict(float)
    for read in supporters:
        format_weights[read.format] += read.confidence
    return Vote(
        text=text,
        confidence=round(confidence, 4),
        format=max(format_weights, key=lambda name: format_weights[name]),
        supporting_reads=sum(read.text == text for read in usable),
        total_reads=len(usable),
    )
