"""``gilwise serve --offload dask``: the sessions analytics on a real Dask cluster.

A ``dask scheduler`` and two ``dask worker`` processes run on 127.0.0.1 (tests/dask_test_cluster.py,
each dying with this test run); the server runs under uvicorn as its own process. The report
must be the one ``inline`` gives on the same data, bit for bit; it must have run on the
cluster's workers (each task logs its start on the scheduler); ``/live`` must list the two
workers; modes switch at run time. Without Dask installed the mode is not offered.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from service_process import Service, make_events, running_service, service_env

from chromium import chromium_page, needs_chromium
from dask_test_cluster import RunningCluster, start_cluster

ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts"

pytestmark = [pytest.mark.slow, pytest.mark.timeout(240)]

Message = dict[str, Any]


@pytest.fixture(scope="module")
def dask_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningCluster]:
    cluster = start_cluster(tmp_path_factory.mktemp("serve-dask-cluster"), workers=2)
    try:
        yield cluster
    finally:
        cluster.stop()


def load_events(svc: Service) -> None:
    for tag in range(4):
        assert svc.client.post("/events", json=make_events(5000, users=400, tag=tag)).status_code == 201


def sessions(svc: Service) -> tuple[str, dict[str, object]]:
    response = svc.client.get("/analytics/sessions")
    assert response.status_code == 200, response.text
    body = response.json()
    return body["mode"], body["report"]


def switch(svc: Service, mode: str) -> None:
    response = svc.client.put("/admin/offload", json={"mode": mode})
    assert response.status_code == 200, response.text
    assert response.json()["mode"] == mode


def live_until(svc: Service, done: Callable[[Message], bool], limit: int = 20) -> Message:
    """The first ``/live`` message for which ``done`` holds (within ``limit`` messages)."""
    seen: Message = {}
    with httpx.stream("GET", svc.url + "live", params={"count": limit}, timeout=10) as stream:
        for line in stream.iter_lines():
            if line.startswith("data: "):
                seen = json.loads(line[len("data: ") :])
                if done(seen):
                    return seen
    raise AssertionError(f"no /live message in {limit} matched; the last: {seen}")


def started_on_cluster(cluster: RunningCluster, prefix: str) -> dict[str, int]:
    """Per worker address, how many tasks whose key starts with ``prefix`` began there."""
    from distributed import Client

    from gilwise._offload._dask_worker import STARTED_TOPIC

    with Client(cluster.address, timeout=30, set_as_default=False) as client:
        events = client.get_events()
    return {
        topic[len(STARTED_TOPIC) + 1 :]: sum(1 for _, key in logged if str(key).startswith(prefix))
        for topic, logged in events.items()
        if topic.startswith(STARTED_TOPIC)
    }


def test_sessions_run_on_the_cluster_match_inline_and_live_lists_its_workers(
    dask_cluster: RunningCluster, tmp_path: Path
) -> None:
    before = sum(started_on_cluster(dask_cluster, "sessions_report").values())
    args = ("--offload", "dask", "--dask-scheduler", dask_cluster.address)
    with running_service(tmp_path, *args) as svc:
        state = svc.client.get("/admin/offload").json()
        assert state["mode"] == "dask" and "dask" in state["modes"]
        assert svc.client.get("/health").json()["offload"] == "dask"
        load_events(svc)
        mode, on_dask = sessions(svc)
        assert mode == "dask" and on_dask["events"] == 20_000
        switch(svc, "inline")
        assert sessions(svc) == ("inline", on_dask)
        switch(svc, "processes")
        assert sessions(svc) == ("processes", on_dask)
        switch(svc, "dask")
        assert sessions(svc) == ("dask", on_dask)
        message = live_until(svc, lambda m: len(m["offload"]["cluster_workers"]) == 2)
        offload = message["offload"]
        assert offload["mode"] == "dask" and offload["workers"] == 2 and offload["cluster_error"] is None
        workers = offload["cluster_workers"]
        assert sorted(w["name"] for w in workers) == ["w0", "w1"]
        assert {w["host"] for w in workers} == {"127.0.0.1"} and {w["nthreads"] for w in workers} == {1}
        assert all(w["address"].startswith("tcp://127.0.0.1:") for w in workers)
        assert all(w["memory_bytes"] > 0 and w["memory_limit_bytes"] > 0 for w in workers)
        # The cluster's workers are not this machine's offload processes to psutil: only the
        # two of the process pool are the server's children.
        assert not set(dask_cluster.worker_pids()) & set(svc.worker_pids())
    ran = started_on_cluster(dask_cluster, "sessions_report")
    assert sum(ran.values()) - before == 2  # the two reports asked in dask mode, nothing else


def test_dask_mode_is_chosen_at_run_time_after_starting_elsewhere(
    dask_cluster: RunningCluster, tmp_path: Path
) -> None:
    with running_service(tmp_path, "--offload", "threads", "--dask-scheduler", dask_cluster.address) as svc:
        load_events(svc)
        mode, in_thread = sessions(svc)
        assert mode == "threads"
        first = live_until(svc, lambda m: True)
        assert first["offload"]["cluster_workers"] == []  # not connected before the mode is used
        switch(svc, "dask")  # connects here, then answers
        assert sessions(svc) == ("dask", in_thread)
        switch(svc, "threads")
        assert sessions(svc) == ("threads", in_thread)
        # /live's first message may be the snapshot taken before the switch back: wait for a
        # threads-mode one, which must still list the cluster (it stays connected).
        message = live_until(svc, lambda m: m["offload"]["mode"] == "threads")
        if len(message["offload"]["cluster_workers"]) != 2:
            message = live_until(svc, lambda m: len(m["offload"]["cluster_workers"]) == 2)
        assert message["offload"]["mode"] == "threads"


def test_dask_mode_without_a_scheduler_runs_a_local_cluster_of_workers(tmp_path: Path) -> None:
    with running_service(tmp_path, "--offload", "dask", "--workers", "2") as svc:
        load_events(svc)
        mode, on_local = sessions(svc)
        assert mode == "dask"
        switch(svc, "inline")
        assert sessions(svc) == ("inline", on_local)
        message = live_until(svc, lambda m: len(m["offload"]["cluster_workers"]) == 2)
        assert {w["host"] for w in message["offload"]["cluster_workers"]} == {"127.0.0.1"}


HIDE_DASK = """
import importlib.abc, sys

class _NoDask(importlib.abc.MetaPathFinder):
    # As if Dask were not installed: find_spec says so, and so does an import.
    def find_spec(self, name, path=None, target=None):
        if name == "distributed" or name.startswith("distributed."):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None

sys.meta_path.insert(0, _NoDask())
"""


@pytest.fixture
def without_dask(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The server's interpreter cannot import ``distributed`` (a ``sitecustomize`` hides it)."""
    folder = tmp_path / "no-dask"
    folder.mkdir()
    (folder / "sitecustomize.py").write_text(HIDE_DASK)
    monkeypatch.setenv("PYTHONPATH", str(folder))  # service_env() keeps it, after src/


@pytest.mark.timeout(60)
def test_without_dask_the_mode_is_not_offered_and_choosing_it_names_the_install(
    without_dask: None, tmp_path: Path
) -> None:
    with running_service(tmp_path) as svc:
        state = svc.client.get("/admin/offload").json()
        assert list(state["modes"]) == ["inline", "threads", "processes", "auto"]
        refused = svc.client.put("/admin/offload", json={"mode": "dask"})
        assert refused.status_code == 422
        assert "pip install 'gilwise[dask]'" in refused.json()["detail"]
        assert svc.client.get("/health").json()["offload"] == "processes"
    started = time.monotonic()
    cli = subprocess.run(
        [sys.executable, "-m", "gilwise.cli", "serve", "--offload", "dask", "--port", "0"],
        capture_output=True,
        text=True,
        timeout=40,
        env=service_env(),
    )
    assert cli.returncode == 2, cli.stderr
    assert "pip install 'gilwise[dask]'" in " ".join(cli.stderr.split())
    assert time.monotonic() - started < 30


@needs_chromium
def test_dashboard_lists_the_cluster_workers_in_dask_mode(
    dask_cluster: RunningCluster, tmp_path: Path
) -> None:
    args = ("--offload", "dask", "--dask-scheduler", dask_cluster.address)
    with running_service(tmp_path, *args) as svc, chromium_page(1280, 1200) as page:
        load_events(svc)
        assert sessions(svc)[0] == "dask"
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.goto(svc.url, wait_until="load")
        page.wait_for_selector("#mode-switch button[data-mode='dask'][aria-checked='true']")
        rows_js = "document.querySelectorAll('#cluster-table tbody tr').length"
        page.wait_for_function(f"{rows_js} === 2", timeout=15_000)
        assert page.locator("#cluster").is_visible()
        assert page.locator("#cluster-count").inner_text() == "2 workers"
        rows = page.locator("#cluster-table tbody tr").all()
        cells = [row.locator("td").all_inner_texts() for row in rows]
        assert sorted(c[0] for c in cells) == ["w0", "w1"]
        assert all(c[1].startswith("tcp://127.0.0.1:") and c[2] == "127.0.0.1" and c[3] == "1" for c in cells)
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "dashboard-dask.png"), full_page=True)
        page.click("#mode-switch button[data-mode='processes']")
        page.wait_for_function("window.gilwise.history.at(-1).offload.mode === 'processes'", timeout=10_000)
        assert svc.client.get("/admin/offload").json()["mode"] == "processes"
        assert page.locator("#cluster-table tbody tr").count() == 2  # still connected, still listed
        assert errors == []


@pytest.mark.timeout(120)
def test_a_scheduler_that_reruns_dead_workers_tasks_is_refused_naming_the_setting(tmp_path: Path) -> None:
    (tmp_path / "cluster").mkdir()
    rerunning = start_cluster(tmp_path / "cluster", workers=0, allowed_failures=3)
    try:
        args = ("--offload", "threads", "--dask-scheduler", rerunning.address)
        with running_service(tmp_path, *args) as svc:
            refused = svc.client.put("/admin/offload", json={"mode": "dask"})
            assert refused.status_code == 422, refused.text
            assert "ALLOWED_FAILURES=0" in refused.json()["detail"]
            assert svc.client.get("/health").json()["offload"] == "threads"
    finally:
        rerunning.stop()
