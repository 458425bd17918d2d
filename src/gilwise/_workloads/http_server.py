"""Loopback HTTP/1.1 server with a set service latency, run as its own process by the harness.

``python -m gilwise._workloads.http_server --latency-ms 20`` prints ``LISTENING <port>`` once it
accepts connections, then serves ``GET /item/<k>`` after sleeping the latency (a database or an
upstream API the client waits on). Stdlib only; binds 127.0.0.1 only.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal

from .._system.lifetime import die_with_parent


def body_for(path: str) -> bytes:
    try:
        index = int(path.rsplit("/", 1)[1])
    except (IndexError, ValueError):
        return b""
    return f'{{"item": {index}, "ok": true}}'.encode()


async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, latency: float) -> None:
    try:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            request_line = head.split(b"\r\n", 1)[0].decode("latin-1")
            parts = request_line.split()
            keep_alive = b"connection: close" not in head.lower()
            await asyncio.sleep(latency)
            body = body_for(parts[1]) if len(parts) >= 2 and parts[0] == "GET" else b""
            status = "200 OK" if body else "404 Not Found"
            writer.write(
                f"HTTP/1.1 {status}\r\nContent-Type: application/json\r\n"
                f"Content-Length: {len(body)}\r\n"
                f"Connection: {'keep-alive' if keep_alive else 'close'}\r\n\r\n".encode()
                + body
            )
            await writer.drain()
            if not keep_alive:
                break
    except (asyncio.IncompleteReadError, ConnectionError, asyncio.LimitOverrunError):
        pass
    except asyncio.CancelledError:
        # The server is stopping (Ctrl-C, SIGTERM) with this client mid-request: end quietly.
        # Re-raised, Python 3.11's stream callback would log the cancelled handler as an error
        # with its traceback (fixed in 3.12), on the terminal of the user who pressed Ctrl-C.
        return
    finally:
        writer.close()
        with contextlib.suppress(ConnectionError, asyncio.CancelledError):
            await writer.wait_closed()


async def serve(latency_ms: float, port: int) -> None:
    latency = latency_ms / 1000
    server = await asyncio.start_server(lambda r, w: handle(r, w, latency), "127.0.0.1", port, backlog=1024)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    bound = server.sockets[0].getsockname()[1]
    print(f"LISTENING {bound}", flush=True)
    async with server:
        await stop.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--latency-ms", type=float, default=20.0)
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()
    die_with_parent()  # a SIGKILLed bench must not leave a server listening on loopback
    asyncio.run(serve(args.latency_ms, args.port))


if __name__ == "__main__":
    main()
