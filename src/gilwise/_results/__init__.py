"""The result document and what is done with it: types, loading, statistics, compare, history.

``document`` defines the result document once (``SCHEMA``, TypedDicts, labels);
``headline`` the one speedup every renderer prints (``headline_speedup``, ``headline_interval``,
``headline_efficiency``: the median paired ratio, also for files written before it); ``stats``
the small exact statistics and stability thresholds (``median_interval``: the sign-test
confidence interval of a median; ``PRECISION``, ``ORCHESTRATOR_WARN_CORES``); ``compare`` +
``significance`` the regression gate (``significance.shift``: the one test of a change), with
three outcomes (``Comparison.outcome``: slower, inconclusive, clean; ``detectable_slowdown``
says what a row's repeats could have shown); ``history`` the SQLite store of runs; ``files``
the atomic writes of every output file (JSON, HTML), with the user's umask. Imports only the
standard library and ``_exceptions``; the harness, report, advise, service and CLI import it.
It never measures and never renders.
"""
