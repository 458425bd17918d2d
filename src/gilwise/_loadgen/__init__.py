"""The open-loop load generator shared by ``gilwise load`` and ``gilwise serving``.

A closed loop (send, wait for the answer, send again) samples a 200 ms stall once, where a
user population would have sent every request due in those 200 ms and seen each one wait:
its p99 hides the stall (coordinated omission). Here every request has a *scheduled* send time
computed before the clock starts (constant or Poisson arrivals at the target rate), its latency
is counted from that time, and a send that leaves late is counted as such.

Modules: ``mix`` (route weights, ``/path=W`` and the service's shorthands), ``schedule`` (the
precomputed send times, the default rate), ``histogram`` (HdrHistogram per route, encoded to
cross a pipe and merged), ``client`` (one client process: asyncio, keep-alive connections opened as needed;
standard library and ``hdrh`` only), ``coordinator`` (starts the client processes, pins them
away from the server's cores where there are enough, merges what they measured into
``OpenLoopReport``, the ``gilwise.load/2`` document).

May import: the standard library, ``hdrh`` (the ``servers`` extra), ``_system`` (cores,
affinity), ``_extras`` and ``_exceptions``. This ``__init__`` imports nothing, so a client
process loads only the modules it runs.
"""
