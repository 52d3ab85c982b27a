"""The registry's primary dies while cameras publish; the synchronous standby is promoted and
the ingest workers carry on there (issue 14). Nothing a device was told is stored may be missing
or doubled on the promoted server, the boxes' outboxes empty, and the audit chain verifies on
the new primary, including a tree head signed on the old one before its death."""

from __future__ import annotations

import threading
import time
from pathlib import Path

from tests.support.failover import FailoverRig, wait_until


def test_cameras_lose_nothing_when_the_primary_dies_and_the_standby_takes_over(
    tmp_path: Path,
) -> None:
    with FailoverRig(tmp_path, cameras=4, workers=2) as rig:
        # A first set, in the ledger under a tree head signed by the old primary and kept
        # outside the registry (as the prosecutor keeps them).
        recorded = rig.record(per_camera=3)
        wait_until(lambda: rig.outbox_depth() == 0, 20, "the first fixations to be stored")
        kept_heads = tmp_path / "kept-heads.jsonl"
        kept_heads.write_text(rig.sign_tree_head() + "\n")

        # Cameras keep recording, a round every 50 ms, through the failover.
        feeding_done = threading.Event()
        during: list[str] = []

        def feed() -> None:
            for _ in range(25):
                during.extend(rig.record(per_camera=1))
                time.sleep(0.05)
            feeding_done.set()

        feeder = threading.Thread(target=feed, daemon=True)
        feeder.start()
        wait_until(
            lambda: len(rig.acknowledged() & set(during)) >= 12,
            20,
            "receipts for fixations recorded while feeding",
        )
        acknowledged_before_kill = rig.acknowledged() & set(during)
        killed_at = time.time()
        rig.cluster.kill_primary()
        rig.cluster.promote()
        assert feeding_done.wait(30)
        feeder.join()
        recorded += during

        try:
            wait_until(lambda: rig.outbox_depth() == 0, 25, "every outbox to drain")
        except AssertionError as error:
            raise AssertionError(f"{error}\n{rig.logs()}") from None
        acknowledged = rig.acknowledged() & set(recorded)
        on_new_primary = rig.fixation_rows()
        commits = rig.ledger_commits()

        # The failover happened with receipts on both sides of it.
        assert len(during) == 100
        assert acknowledged_before_kill and len(acknowledged_before_kill) < len(during)
        assert rig.first_commit_after(killed_at) is not None
        # Every fixation a receipt acknowledged is on the promoted server, once; an emptied
        # outbox means every recorded one was acknowledged.
        assert acknowledged == set(recorded)
        doubled = {fid: n for fid, n in on_new_primary.items() if n != 1}
        committed_twice = {fid: n for fid, n in commits.items() if n != 1}
        assert doubled == {} and committed_twice == {}
        assert set(on_new_primary) == set(commits) == set(recorded)
        assert rig.observer is not None
        assert rig.observer.statuses().get("rejected", 0) == 0

        verified = rig.registry_command("audit", "verify", "--kept-heads", str(kept_heads))
        assert verified.returncode == 0
