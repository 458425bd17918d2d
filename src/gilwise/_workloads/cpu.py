"""CPU-bound workloads: pure-Python arithmetic, and C-implemented stdlib work that holds or
releases the GIL (json holds it; hashlib and zlib release it on large buffers).

Each task imports what only it uses (json, random, zlib, hashlib): this module is also
imported inside every fresh sub-interpreter (the ``interpreters`` model), whose start-up the
cell measures (json alone, through re, costs ~10 ms there; the bare program compared with it
imports math only), and CPython 3.12.1 aborts at exit ("free(): invalid pointer") after two
sub-interpreters have imported hashlib.
"""

from __future__ import annotations

import math

# Annotations only (never evaluated): typing and ``_base`` (dataclasses, hence inspect and
# ast) would cost each sub-interpreter ~15 ms more.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from ._base import Params

# ---- sqrt_log: the classic loop of the seed example ---------------------------------------


def sqrt_log_python(size: int, params: Params) -> float:
    result = 0.0
    for i in range(size):
        result += math.sqrt(i) * math.log(i + 1)
    return result


def sqrt_log_local_python(size: int, params: Params) -> float:
    """The same loop with ``math.sqrt`` / ``math.log`` bound to locals before it starts.

    Same operations in the same order, so the very same float as sqrt_log_python. The classic
    form looks up ``math`` (a global) and its attributes on every iteration; on a free-threaded
    build every thread then increments and decrements the reference counts of the same shared
    module and function objects, and those cache lines bounce between cores.
    """
    sqrt, log = math.sqrt, math.log
    result = 0.0
    for i in range(size):
        result += sqrt(i) * log(i + 1)
    return result


# ---- json: encode + decode a realistic nested document -----------------------------------

_documents: dict[int, list[dict[str, Any]]] = {}


def build_document(size: int, params: Params) -> None:
    """``size`` order records with nested customer, line items and tags (deterministic)."""
    import random

    rng = random.Random(size)
    words = ["alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta", "iota"]
    _documents[size] = [
        {
            "id": i,
            "customer": {
                "name": f"{rng.choice(words).title()} {rng.choice(words).title()}",
                "email": f"user{i}@example.com",
                "vip": rng.random() < 0.1,
                "address": {"city": rng.choice(words), "zip": f"{rng.randrange(10**5):05d}"},
            },
            "items": [
                {
                    "sku": f"SKU-{rng.randrange(10**6)}",
                    "qty": rng.randrange(1, 9),
                    "price": round(rng.uniform(0.5, 500.0), 2),
                }
                for _ in range(rng.randrange(1, 6))
            ],
            "tags": rng.sample(words, 3),
            "note": None if rng.random() < 0.5 else "leave at the door, ünïcödé ✓",
        }
        for i in range(size)
    ]


def json_roundtrip(size: int, params: Params) -> list[int]:
    import json

    document = _documents[size]
    encoded = json.dumps(document)
    decoded = json.loads(encoded)
    return [len(encoded), len(decoded), sum(len(order["items"]) for order in decoded)]


# ---- sha256 and zlib over large buffers ---------------------------------------------------

BLOCK_BYTES = 1 << 20
"""sha256 hashes ``size`` blocks of 1 MiB per task; hashlib drops the GIL for data > 2 KiB."""

ZLIB_BLOCK_BYTES = 256 << 10

_blocks: dict[int, bytes] = {}


def text_like_bytes(nbytes: int, seed: int = 7) -> bytes:
    """Deterministic bytes that compress about 2:1, like text, built at C speed."""
    import random

    raw = random.Random(seed).randbytes(nbytes)
    alphabet = b"etaoin shrdlucmfwyp\n"
    table = bytes(alphabet[i % len(alphabet)] for i in range(256))
    return raw.translate(table)


def build_blocks(size: int, params: Params) -> None:
    for nbytes in (BLOCK_BYTES, ZLIB_BLOCK_BYTES):
        if nbytes not in _blocks:
            _blocks[nbytes] = text_like_bytes(nbytes)


def sha256_blocks(size: int, params: Params) -> str:
    import hashlib

    block = _blocks[BLOCK_BYTES]
    digest = hashlib.sha256()
    for _ in range(size):
        digest.update(block)
    return digest.hexdigest()


def zlib_blocks(size: int, params: Params) -> list[int]:
    import zlib

    block = _blocks[ZLIB_BLOCK_BYTES]
    total = 0
    crc = 0
    for _ in range(size):
        packed = zlib.compress(block, 6)
        total += len(packed)
        crc = zlib.crc32(packed, crc)
    return [total, crc]
