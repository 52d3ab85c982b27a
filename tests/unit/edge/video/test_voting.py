"""Voting a track's reads: a plate misread in a few frames still comes out right."""

from __future__ import annotations

import pytest

from edge.video.voting import Read, edit_distance, group_similar, similarity, vote


def reads(*items: tuple[str, float, int]) -> list[Read]:
    return [
        Read(text, confidence, "kz_person")
        for text, confidence, count in items
        for _ in range(count)
    ]


def test_misreads_in_a_few_frames_are_outvoted_per_character() -> None:
    voted = vote(reads(("123ABC01", 0.80, 5), ("123ABO01", 0.95, 2), ("I23ABC01", 0.90, 2)))
    assert voted is not None
    assert voted.text == "123ABC01"
    assert voted.supporting_reads == 5
    assert voted.total_reads == 9


def test_every_read_wrong_somewhere_still_votes_the_right_plate() -> None:
    """No single frame is right, but each character is right in most frames."""
    voted = vote(
        reads(
            ("I23ABC01", 0.9, 1),
            ("123A8C01", 0.9, 1),
            ("123ABO01", 0.9, 1),
            ("123ABC0I", 0.9, 1),
            ("1Z3ABC01", 0.9, 1),
        )
    )
    assert voted is not None
    assert voted.text == "123ABC01"
    assert voted.supporting_reads == 0


def test_confidence_weights_the_vote() -> None:
    voted = vote(reads(("123ABC01", 0.95, 2), ("123ABO01", 0.30, 3)))
    assert voted is not None
    assert voted.text == "123ABC01"


def test_confidence_reflects_disagreement() -> None:
    unanimous = vote(reads(("123ABC01", 0.9, 6)))
    contested = vote(reads(("123ABC01", 0.9, 4), ("123ABO01", 0.9, 2)))
    assert unanimous is not None and contested is not None
    assert unanimous.confidence == pytest.approx(0.9)
    assert contested.confidence == pytest.approx(0.9 * 4 / 6, abs=1e-3)


def test_a_stray_text_in_the_track_does_not_mix_into_the_plate() -> None:
    """A sticker read as 'TAXI' in a few frames is a different group, not a vote per position."""
    voted = vote(reads(("123ABC01", 0.8, 4), ("TAXI", 0.99, 3)))
    assert voted is not None
    assert voted.text == "123ABC01"


def test_reads_of_other_lengths_join_the_group_but_do_not_vote_positions() -> None:
    """A read with a stray character (length 9) must not shift every position of the vote."""
    voted = vote(reads(("123ABC01", 0.8, 3), ("1123ABC01", 0.9, 2)))
    assert voted is not None
    assert voted.text == "123ABC01"
    assert len(group_similar(reads(("123ABC01", 0.8, 3), ("1123ABC01", 0.9, 2)), 0.6)) == 1


def test_the_format_comes_from_the_reads_that_agree_with_the_vote() -> None:
    voted = vote(
        [
            Read("123AB01", 0.9, "kz_org"),
            Read("123AB01", 0.9, "kz_org"),
            Read("123A801", 0.95, "generic"),
        ]
    )
    assert voted is not None
    assert (voted.text, voted.format) == ("123AB01", "kz_org")


def test_no_usable_reads_vote_nothing() -> None:
    assert vote([]) is None
    assert vote([Read("", 0.9, "generic"), Read("123ABC01", 0.0, "kz_person")]) is None


def test_edit_distance_and_similarity() -> None:
    assert edit_distance("123ABC01", "123ABC01") == 0
    assert edit_distance("123ABC01", "I23ABO01") == 2
    assert edit_distance("123ABC01", "1123ABC01") == 1
    assert edit_distance("", "ABC") == 3
    assert similarity("123ABC01", "I23ABO01") == pytest.approx(0.75)
    assert similarity("", "") == 1.0
