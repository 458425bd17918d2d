"""CPython builds on this machine: discovery, probing (version, GIL state, free-threading, JIT),
and the import probe that tells whether an extension turns the GIL back on.

May import ``_exceptions`` and ``_results`` (the document's interpreter entry and build
labels) and ``_system`` (``install``: whether hints may name the checkout's scripts);
``builds`` (where gilwise's own builds live in its cache, per version; how a user gets a
free-threaded build) imports only the standard library and ``_system.install``. The native
kernels, models, harness, advise and the CLI import it; it never imports them (``gilwise
doctor``, which asks the models what each build can run, lives in ``_harness.doctor``).
"""
