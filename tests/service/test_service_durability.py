"""SIGKILL of the server in the middle of ingest: after a restart on the same DuckDB file, every
batch that got a 201 is there, whole, and no batch is there in part."""

from __future__ import annotations

import signal
import threading
import time
from pathlib import Path

import duckdb
import httpx
import psutil
import pytest
from service_process import make_events, running_service, stop

BATCH = 500


@pytest.mark.timeout(120)
def test_sigkill_during_ingest_loses_no_acknowledged_batch_and_leaves_no_partial_one(
    tmp_path: Path,
) -> None:
    db = tmp_path / "durable.duckdb"
    acked: list[int] = []
    failed: list[str] = []
    stop_sending = threading.Event()

    with running_service(tmp_path, db=db) as svc:
        children = [psutil.Process(pid) for pid in svc.worker_pids()]
        assert children, "the offload workers should be running"

        def send(client_id: int) -> None:
            with httpx.Client(base_url=svc.url, timeout=10) as client:
                for k in range(10_000):
                    if stop_sending.is_set():
                        return
                    tag = client_id * 100_000 + k
                    try:
                        response = client.post("/events", json=make_events(BATCH, tag=tag))
                    except httpx.HTTPError as exc:
                        failed.append(type(exc).__name__)  # the kill cut this one off
                        return
                    if response.status_code == 201:
                        acked.append(tag)

        senders = [threading.Thread(target=send, args=(i,)) for i in range(3)]
        for thread in senders:
            thread.start()
        deadline = time.monotonic() + 30
        while len(acked) < 30 and time.monotonic() < deadline:
            time.sleep(0.02)
        svc.proc.send_signal(signal.SIGKILL)
        svc.proc.wait(timeout=10)
        stop_sending.set()
        for thread in senders:
            thread.join(timeout=20)
        assert len(acked) >= 30, "ingest did not get going before the kill"
        # The offload workers notice their parent's death and exit by themselves.
        _, alive = psutil.wait_procs(children, timeout=10)
        assert not alive, f"offload processes outlived the killed server: {alive}"

    with running_service(tmp_path, db=db) as again:
        count = again.client.get("/events/count").json()["count"]
        assert stop(again.proc) == 0

    with duckdb.connect(str(db), read_only=True) as con:
        query = "SELECT (props->>'tag')::BIGINT, count(*) FROM events GROUP BY 1"
        per_tag = dict(con.execute(query).fetchall())
        batches = con.execute("SELECT count(*), sum(events) FROM batches").fetchone()
    missing = [tag for tag in acked if per_tag.get(tag) != BATCH]
    assert not missing, f"acknowledged batches lost or cut: {missing[:5]}"
    partial = {tag: n for tag, n in per_tag.items() if n != BATCH}
    assert not partial, f"partial batches stored: {partial}"
    assert count == BATCH * len(per_tag)
    assert batches == (len(per_tag), count)
    # At most one request per sender was in flight at the kill: stored or not, never half.
    assert len(per_tag) - len(acked) <= 3
