"""CPython builds on this machine: discovery, probing (version, GIL state, free-threading, JIT),
and the import probe that tells whether an extension turns the GIL back on.

May import ``_exceptions`` and ``_results`` (the document's interpreter entry and build
labels); ``builds`` (where gilwise's own builds live in its cache, per version) imports only
the standard library. The native kernels, models, harness, advise and the CLI import it; it
never imports them (``gilwise doctor``, which asks the models what each build can run, lives
in ``_harness.doctor``).
"""
