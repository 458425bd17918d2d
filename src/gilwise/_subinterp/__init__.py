"""Sub-interpreters with their own GIL (PEP 684/734): the runner and the code run inside them.

``runner`` starts N interpreters (``_xxsubinterpreters`` on 3.12, ``_interpreters`` on 3.13,
``pool``'s ``InterpreterPoolExecutor`` on 3.14+); ``records`` holds what both take and return;
``tasks`` is imported *inside* the interpreters, so it and this ``__init__`` stay stdlib-only.

May import ``_exceptions`` only (and ``_pythons.discovery`` for type hints). Used by the
``interpreters`` model; it imports neither the harness nor the report.
"""
