"""``gilwise serve``: the story's real-time analytics backend, built the right way, with a switch
that reproduces the wrong ways and a live dashboard that makes the difference visible.

FastAPI under uvicorn, events in an embedded DuckDB file, the CPU-heavy analytics run as the
offload mode says (``inline`` in the event loop, ``threads`` through ``asyncio.to_thread``,
``processes`` / ``auto`` through ``gilwise.Offloader``).

Modules: ``settings`` (what a server is started with), ``models`` (every request and response),
``errors`` (the one exception that answers a clear 4xx),
``store`` (DuckDB: one connection, a cursor per thread, a transaction per batch), ``ingest``
(body limit, JSON / NDJSON, validation), ``analytics`` (the pure-Python sessions report; stdlib
and NumPy only, workers import it), ``modes`` (the offload-mode registry), ``metrics`` (what
``/live`` streams), ``state`` (what the endpoints share, and the dependencies that hand it to
them), ``app`` (the app factory, lifespan), ``routes`` and
``dashboard`` (the endpoints), ``server`` (uvicorn), ``loadgen`` + ``load_client`` (the load
generator; clients are separate processes, stdlib only), ``asgi`` + ``asgi_settings`` (the app
as an import string for any ASGI server, configured by the environment: ``gilwise serving``).

May import: ``_offload`` (the library it runs work on), ``_loadgen.processes`` (how load
clients are started and reaped), ``_results`` (the bench history shown on
the dashboard), ``_system`` (usable cores, per-core and per-process CPU), ``_extras`` (install commands),
``_exceptions``,
FastAPI, uvicorn, DuckDB, NumPy. Nothing in gilwise imports it but ``_cli``, and ``_serving``
(``asgi_settings`` and the ingest clients of ``loadgen``, which load no FastAPI). This ``__init__``
imports nothing, so offload workers and load clients that import one module of the package load
only that module.
"""
