"""``gilwise serving``: one ASGI app under each serving model, driven by the open-loop load.

Modules: ``models`` (the registry of serving models: the server, its worker count, its command
line, whether it is installed), ``server`` (one server started in its own session on loopback,
its process tree's busy cores and memory, stopped by killing the whole group), ``document``
(the ``gilwise.serving/1`` JSON, typed), ``run`` (round-robin repeats, warm-up, the rate sweep,
medians and paired ratios), ``verdict`` (which model to run the app with, and why).

May import: ``_loadgen`` (the load), ``_service`` (gilwise's own app: its ingest load and its
import string), ``_system`` (cores, process trees, memory), ``_results`` (statistics, the
machine record's type, files), ``_harness.machine`` (the machine record), ``_extras``,
``_exceptions``. Only ``_cli`` imports it; ``_report`` reads the document, not this package.
"""
