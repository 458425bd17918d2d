"""``gilwise serve``'s listening socket, bound before the server starts."""

from __future__ import annotations

import asyncio
import socket

from gilwise._cli.serve import listen


def test_connections_on_the_bound_socket_send_without_nagle() -> None:
    """asyncio sets TCP_NODELAY only on sockets that say IPPROTO_TCP; without it each response
    waited ~40 ms for the client's delayed ACK."""

    async def main() -> int:
        accepted: asyncio.Future[int] = asyncio.get_running_loop().create_future()

        async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            sock = writer.get_extra_info("socket")
            accepted.set_result(sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
            writer.close()

        bound = listen("127.0.0.1", 0)
        server = await asyncio.start_server(handle, sock=bound)
        async with server:
            _, writer = await asyncio.open_connection(*bound.getsockname())
            nodelay = await asyncio.wait_for(accepted, 10)
            writer.close()
            return nodelay

    assert asyncio.run(main()) != 0
