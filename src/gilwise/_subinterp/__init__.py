"""Sub-interpreters with their own GIL (PEP 684/734): the runner and the code run inside them.

``runner`` starts N interpreters (``_xxsubinterpreters`` on 3.12, ``_interpreters`` on 3.13,
``pool``'s ``InterpreterPoolExecutor`` on 3.14+); ``tasks`` is imported *inside* them, so it and
this ``__init__`` stay stdlib-only (plus ``_workloads``). Used by the ``interpreters`` model
and by advise; it imports neither the harness nor the report.
"""
