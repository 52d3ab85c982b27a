"""The case-opened SMS stays within two SMS in every language, for every vehicle of the demo's
register, every offence of the configured fine schedule, with and without the discount, with
the longest case numbers the configured agency code gives and the configured link.

Integration, not unit: it reads the seed file, the shipped example configuration and the
compiled catalogs.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from central_ingest.config import RegistryConfig, load_config
from central_ingest.core.clock import iso
from central_ingest.core.sms import sms_segments
from central_ingest.notify.texts import MAX_SMS_SEGMENTS, CaseNotice, sms_text, sms_variants
from central_ingest.vehicles import DEMO_SEED
from i18n import LANGUAGES, Language, translator
from tests.support.paths import DEPLOY

# Every test here runs on SQLite and on PostgreSQL (tests/support/stores.py).
pytestmark = pytest.mark.usefixtures("registry_store")

EXAMPLE = DEPLOY / "registry.example.toml"
CONFIG = load_config(EXAMPLE)
# Case numbers run to seven digits a year (4 million protocols a year in the whole country).
LONGEST_SEQUENCE = 9_999_999
NBSP = "\u00a0"
# 18:59 in Astana on 20 December: two-digit days and months and the longest English times.
RESOLUTIONS = (
    datetime(2026, 12, 20, 13, 59, tzinfo=UTC),
    datetime(2026, 1, 1, 4, 0, tzinfo=UTC),
)


def seed_plates() -> list[str]:
    lines = DEMO_SEED.read_text(encoding="utf-8").splitlines()
    return [json.loads(line)["plate"] for line in lines if line.strip()]


def offences(config: RegistryConfig) -> Iterator[tuple[str, str, str, int]]:
    """(violation, article, part, fine in MRP) of every line of the fine schedule."""
    for band in config.fines.speeding_bands:
        yield "speeding", config.fines.speeding_article, band.part, band.fine_mrp
    for violation, fine in config.fines.fixed.items():
        yield str(violation), fine.article, fine.part, fine.fine_mrp


def case_row(
    plate: str, offence: tuple[str, str, str, int], resolution_at: datetime, discount: int
) -> dict[str, Any]:
    violation, article, part, fine_mrp = offence
    year = resolution_at.year
    mrp = max(CONFIG.mrp_by_year.values())
    return {
        "case_number": f"{CONFIG.agency_code}-{year}-{LONGEST_SEQUENCE:07d}",
        "plate": plate,
        "owner_name": "Нурлан Серикович Ахметов",
        "violation": violation,
        "article": article,
        "part": part,
        "offence_at": iso(resolution_at - timedelta(days=1)),
        "fine_mrp": fine_mrp,
        "mrp_kzt": mrp,
        "fine_minor": fine_mrp * mrp * 100,
        "discount_percent": discount,
        "discount_deadline": iso(resolution_at + timedelta(days=CONFIG.deadlines.discount_days)),
        "entry_into_force": iso(resolution_at + timedelta(days=CONFIG.deadlines.appeal_days)),
        "voluntary_deadline": iso(
            resolution_at
            + timedelta(days=CONFIG.deadlines.appeal_days + CONFIG.deadlines.voluntary_days)
        ),
    }


def test_the_sweep_covers_what_it_claims() -> None:
    plates = seed_plates()
    assert len(plates) >= 30 and max(len(plate) for plate in plates) == 8
    assert {offence[0] for offence in offences(CONFIG)} == {
        "speeding",
        "red_light",
        "bus_lane",
        "phone",
        "seat_belt",
    }
    assert CONFIG.case_link_base_url.startswith("https://")


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("discount", [CONFIG.deadlines.discount_percent, 0])
def test_every_case_opened_sms_fits_two_sms(language: Language, discount: int) -> None:
    t = translator("notices", language)
    longest = 0
    for plate in seed_plates():
        for offence in offences(CONFIG):
            for resolution_at in RESOLUTIONS:
                notice = CaseNotice.from_case(
                    case_row(plate, offence, resolution_at, discount),
                    CONFIG.case_link_base_url,
                    resolution_at,
                )
                assert notice.has_discount is (discount > 0)
                variants = sms_variants(notice, t)
                text = sms_text(notice, t)
                size = sms_segments(text)
                assert size.segments <= MAX_SMS_SEGMENTS, (size, text)
                # The fullest that fits: every fuller variant needs more SMS.
                for fuller in variants[: variants.index(text)]:
                    assert sms_segments(fuller).segments > MAX_SMS_SEGMENTS
                assert text.endswith(notice.link) and text.count(notice.link) == 1
                due = t.money(notice.discounted_minor if discount else notice.full_minor)
                assert due.replace(NBSP, " ") in text.replace(NBSP, " ")
                longest = max(longest, size.units)
    # Cyrillic goes out as UCS-2, and the Kazakh and Russian texts need the second SMS.
    if language in ("kk", "ru"):
        assert longest > 70


@pytest.mark.parametrize("language", ["kk", "ru"])
def test_the_article_is_cited_as_the_code_does(language: Language) -> None:
    t = translator("notices", language)
    resolution_at = RESOLUTIONS[0]
    notice = CaseNotice.from_case(
        case_row("221ABC01", ("speeding", "592", "1", 5), resolution_at, 50),
        CONFIG.case_link_base_url,
        resolution_at,
    )
    expected = {"kk": "ӘҚБтК 592-бабының 1-бөлігі", "ru": "ч. 1 ст. 592 КоАП РК"}[language]
    assert all(expected in variant for variant in sms_variants(notice, t))
