"""``gilwise audit``: does each installed distribution really keep a free-threaded build's GIL off?

:mod:`.inventory` asks the target interpreter what is installed (``importlib.metadata``:
versions, ``RECORD`` matched against the target's ``EXTENSION_SUFFIXES``, wheel tags, the
dependency graph); :mod:`.imports` imports each distribution's top-level modules in a fresh,
clean, bounded child of that interpreter and reads what it did to the GIL; :mod:`.fixes` asks
the index, through the installer the user has, whether a newer release or a free-threaded wheel
exists; :mod:`.measure` prices a finding on the user's own function with advise's cells;
:mod:`.api` ties them into one :class:`.document.AuditDocument`.

May import ``_pythons`` (discovery), ``_advise`` (its cells, for ``--measure``), ``_harness``
(killing a child's process group, the CPU sampler), ``_results`` (statistics, the interval
type), ``_system`` (usable cores) and ``_exceptions``; never ``_report`` or ``_cli``: audit
returns records, the report package renders them. The scripts that run inside the target
interpreter are stdlib-only strings.
"""
