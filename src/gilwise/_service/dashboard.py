"""``GET /``: the dashboard page, its own assets, plotly.js from the installed plotly wheel, and
the latest ``gilwise bench`` run from the history. Nothing is loaded from the network."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from fastapi import APIRouter, HTTPException
from fastapi.responses import FileResponse, HTMLResponse

from .._exceptions import UsageError
from .._extras import install_command
from .._results.document import interpreter_label
from .._results.headline import headline_speedup
from .._results.history import History
from .models import BenchLatest, BenchRow
from .state import State

router = APIRouter()

ASSETS = Path(__file__).with_name("assets")
_MEDIA = {".js": "text/javascript", ".css": "text/css"}


def plotly_js() -> Path:
    """plotly.min.js as shipped inside the plotly wheel (the Python package bundles plotly.js)."""
    spec = importlib.util.find_spec("plotly")
    if spec is None or spec.origin is None:
        raise UsageError(f"the plotly package is missing: `{install_command('serve')}`")
    return Path(spec.origin).parent / "package_data" / "plotly.min.js"


@router.get("/", response_class=HTMLResponse, include_in_schema=False)
async def page() -> HTMLResponse:
    return HTMLResponse((ASSETS / "dashboard.html").read_text(encoding="utf-8"))


@router.get("/assets/{name}", include_in_schema=False)
async def asset(name: str) -> FileResponse:
    if name == "plotly.min.js":
        return FileResponse(plotly_js(), media_type="text/javascript")
    path = ASSETS / name
    if name not in {p.name for p in ASSETS.iterdir()} or path.suffix not in _MEDIA:
        raise HTTPException(404, f"no asset {name!r}")
    return FileResponse(path, media_type=_MEDIA[path.suffix])


@router.get("/bench/latest", response_model=BenchLatest)
def bench_latest(state: State) -> BenchLatest:
    """The newest run in the bench history (``gilwise bench`` records each run)."""
    # A plain ``def``, as FastAPI's docs advise for blocking I/O: SQLite has no async API, so
    # FastAPI runs this handler in its threadpool and the event loop (``/live``, ingest) never
    # waits on the history file.
    path = state.settings.history_path
    if not path.exists():
        return BenchLatest(
            run_id=None,
            started=None,
            rows=[],
            message=f"no bench runs recorded yet in {path}: run `gilwise bench`",
        )
    try:
        history = History.for_reading(path)
        run_id = history.latest_id()
        if run_id is None:
            return BenchLatest(run_id=None, started=None, rows=[], message="the bench history is empty")
        doc = history.load(run_id)
    except UsageError as exc:
        return BenchLatest(run_id=None, started=None, rows=[], message=str(exc))
    rows = [
        BenchRow(
            workload=r["workload"],
            impl=r["impl"],
            model=r["model"],
            workers=r["workers"],
            interpreter=interpreter_label(r["interpreter"]),
            status=r["status"],
            wall_median_s=r["wall_s"]["median"],
            speedup=headline_speedup(r),
            busy_cores=r.get("cpu_busy_cores_mean"),
        )
        for r in doc["results"]
    ]
    return BenchLatest(run_id=run_id, started=doc.get("started"), rows=rows)
