"""The exit-code rule every ``gilwise`` command follows (DESIGN.md, "Exit codes"):

- 0 ``EXIT_OK``: done, and the measured result says yes (or there was nothing to judge);
- 1 ``EXIT_FAILED``: the measured result says no (a failed run, a regression, a GIL re-enabled);
- 2 ``EXIT_USAGE``: trouble before or around the measurement (bad usage, with the valid choices
  listed; an unreadable, damaged or unwritable file; a busy port);
- 3 ``EXIT_INCONCLUSIVE``: measured, but the numbers cannot answer (noise, a busy machine);
- 130 ``EXIT_INTERRUPTED``: Ctrl-C (what finished is kept).

Nothing a user can cause ends in a Python traceback; an error of gilwise's own (a bug) exits 1
with one line naming the file its traceback was written to (``app.main``).

A module of its own, with no imports, so ``gilwise.cli`` can answer a Ctrl-C that comes while
the rest of gilwise is still loading.
"""

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_INCONCLUSIVE = 3
EXIT_INTERRUPTED = 130
