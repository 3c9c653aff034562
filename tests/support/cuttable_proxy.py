"""A TCP proxy on loopback that the tests can cut, as a service that stops: every open connection is
closed and new ones are closed as soon as they are accepted, until ``restore()``. Tests put it between a
part and the PostgreSQL, Redis or RabbitMQ of the machine, so that one test can stop "the database" of
one Rasa instance without stopping the machine's database for everything else."""

from __future__ import annotations

import asyncio
import threading
from typing import Optional, Set, Tuple


class CuttableProxy:
    def __init__(self, upstream: Tuple[str, int]) -> None:
        self.upstream = upstream
        self._cut = False
        self._writers: Set[asyncio.StreamWriter] = set()
        self._loop = asyncio.new_event_loop()
        self._server: Optional[asyncio.base_events.Server] = None
        ready = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(ready,), daemon=True)
        self._thread.start()
        ready.wait(10)
        assert self._server is not None
        self.port: int = self._server.sockets[0].getsockname()[1]

    def _run(self, ready: threading.Event) -> None:
        asyncio.set_event_loop(self._loop)
        self._server = self._loop.run_until_complete(asyncio.start_server(self._accept, "127.0.0.1", 0))
        ready.set()
        self._loop.run_forever()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self._cut:
            writer.close()
            return
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.upstream)
        except OSError:
            writer.close()
            return
        self._writers.update({writer, up_writer})

        async def pipe(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
            try:
                while data := await source.read(65536):
                    sink.write(data)
                    await sink.drain()
            except (ConnectionError, OSError):
                pass
            finally:
                sink.close()

        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))
        self._writers.difference_update({writer, up_writer})

    def cut(self) -> None:
        """The service stops: open connections are reset, new ones closed at once."""

        def close_all() -> None:
            self._cut = True
            for writer in list(self._writers):
                transport = writer.transport
                if transport is not None:
                    transport.abort()
            self._writers.clear()

        self._loop.call_soon_threadsafe(close_all)
        asyncio.run_coroutine_threadsafe(asyncio.sleep(0), self._loop).result(5)

    def restore(self) -> None:
        def reopen() -> None:
            self._cut = False

        self._loop.call_soon_threadsafe(reopen)
        asyncio.run_coroutine_threadsafe(asyncio.sleep(0), self._loop).result(5)

    def close(self) -> None:
        self.cut()

        async def stop() -> None:
            assert self._server is not None
            self._server.close()
            await self._server.wait_closed()

        asyncio.run_coroutine_threadsafe(stop(), self._loop).result(5)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)
