"""The appeals' routes on both stores: the driver files with the case number and plate
(multipart), a disguised file is refused with the reason, supervisors decide, an officer enters
a court's decision with its reference, and each role may do only its own part."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.api import PROSECUTOR, REVIEWER, SUPERVISOR, build_env
from tests.support.appeal_files import document_pdf, photo_jpeg, windows_program
from tests.support.registry_fixtures import OWNER_PERSON

pytestmark = pytest.mark.usefixtures("registry_store")


def test_a_driver_files_and_a_supervisor_decides_each_in_their_part(tmp_path: Path) -> None:
    env = build_env(tmp_path)
    case_number = env.world.open_case()
    driver = env.client()

    disguised = driver.post(
        f"/v1/cases/{case_number}/appeals",
        data={"plate": OWNER_PERSON.plate, "text": "Not me."},
        files=[("files", ("photo.jpg", windows_program(), "image/jpeg"))],
        headers={"Accept-Language": "en"},
    )
    assert disguised.status_code == 422
    assert disguised.json()["error"] == "attachment_not_allowed"
    assert "photo.jpg" in disguised.json()["detail"]
    assert "Windows program" in disguised.json()["detail"]

    wrong_plate = driver.post(
        f"/v1/cases/{case_number}/appeals", data={"plate": "456DEF02", "text": "Not me."}
    )
    no_case = driver.post(
        "/v1/cases/KZ-GP-2099-0000009/appeals", data={"plate": OWNER_PERSON.plate, "text": "x"}
    )
    assert wrong_plate.status_code == no_case.status_code == 404
    assert wrong_plate.json() == no_case.json()

    filed = driver.post(
        f"/v1/cases/{case_number}/appeals",
        data={"plate": OWNER_PERSON.plate, "text": "I sold the car the day before."},
        files=[
            ("files", ("contract.pdf", document_pdf(), "application/pdf")),
            ("files", ("photo.jpg", photo_jpeg(), "image/jpeg")),
        ],
    )
    assert filed.status_code == 201, filed.text
    appeal_id = filed.json()["appeal_id"]
    assert filed.headers["Location"] == f"/v1/appeals/{appeal_id}"

    supervisor = env.client()
    supervisor.headers.update(env.headers(SUPERVISOR))
    listed = supervisor.get("/v1/appeals")
    assert [item["appeal_id"] for item in listed.json()] == [appeal_id]
    pdf = supervisor.get(f"/v1/appeals/{appeal_id}/attachments/1")
    assert pdf.status_code == 200 and pdf.content == document_pdf()
    assert pdf.headers["content-type"] == "application/pdf"

    reviewer = env.client()
    reviewer.headers.update(env.headers(REVIEWER))
    decision = {"decision": "amended", "amended_article": "592", "amended_part": "1"}
    assert reviewer.post(f"/v1/appeals/{appeal_id}/decision", json=decision).status_code == 403
    prosecutor = env.client()
    prosecutor.headers.update(env.headers(PROSECUTOR))
    court = {**decision, "court_reference": "2-77/2025"}
    assert prosecutor.post(f"/v1/appeals/{appeal_id}/court-decision", json=court).status_code == 403
    entered = reviewer.post(f"/v1/appeals/{appeal_id}/court-decision", json=court)
    assert entered.status_code == 200, entered.text
    body = entered.json()
    assert (body["decision"], body["decided_as"], body["decided_by"]) == (
        "amended",
        "court",
        REVIEWER,
    )
    # 592 part 1 is 5 MRP at the 2025 MRP of 3,932 KZT (config.py's schedule).
    assert body["amended_fine_minor"] == 5 * 3932 * 100
    assert supervisor.get(f"/v1/cases/{case_number}").json()["full_minor"] == 5 * 3932 * 100
    again = supervisor.post(f"/v1/appeals/{appeal_id}/decision", json={"decision": "upheld"})
    assert again.status_code == 409
    assert supervisor.get("/v1/appeals").json() == []
