"""CPython builds on this machine: discovery, probing (version, GIL state, free-threading, JIT),
the import probe that tells whether an extension turns the GIL back on, and ``gilwise doctor``.

``builds`` (where gilwise's own builds live in its cache, per version) imports only the
standard library; ``discovery`` and ``gilstate`` import only it, ``_exceptions`` and
``_results``; ``doctor`` (the top of this package) also asks ``_models`` and ``_harness``
what each build can run. The harness, advise and the CLI import it; it never imports them.
"""
