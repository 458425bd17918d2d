"""gilwise's analytics app as an import string (``gilwise._service.asgi:app``), for any ASGI
server: what ``gilwise serving`` runs under uvicorn, Gunicorn, Granian and Hypercorn.

A server with N worker processes imports this module in each of them, and each builds its app
from the environment (``asgi_settings``): its own DuckDB file, the offload mode, the pool size.
"""

from __future__ import annotations

from .app import create_app
from .asgi_settings import settings_from_environment

app = create_app(settings_from_environment())
