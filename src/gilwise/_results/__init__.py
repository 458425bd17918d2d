"""The result document and what is done with it: types, loading, statistics, compare, history.

``document`` defines the result document once (``SCHEMA``, TypedDicts, labels);
``headline`` the one speedup every renderer prints (``headline_speedup``, ``headline_interval``,
``headline_efficiency``: the median paired ratio, also for files written before it); ``stats``
the small exact statistics and stability thresholds (``median_interval``: the sign-test
confidence interval of a median; ``PRECISION``, ``ORCHESTRATOR_WARN_CORES``); ``compare`` the
regression gate, with three outcomes (``Comparison.outcome``: slower, inconclusive, clean);
``drift`` its one test of a change (``LogShift``: a t test on logs whose p, bounds, change and
detectable slowdown agree; ``rounds_test`` against A's rounds with an assumed drift,
``drift_test`` against earlier runs' spread); ``significance`` the family-wise decision
(``decide_family``: Holm over every row); ``baseline`` the gate against the history;
``bases`` the values a row is judged on (relative to serial, to the anchor, wall) and from
which rounds (those without other load); ``causes`` why a slowdown may be the machine's (other
load, extra CPU, slower tasks);
``history`` the SQLite store of runs; ``files`` the atomic writes of every output file (JSON,
HTML), with the user's umask. Imports only the standard library and ``_exceptions``; the
harness, report, advise, service and CLI import it. It never measures and never renders.
"""
