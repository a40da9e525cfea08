"""Process lifecycle: bind, serve, reload on SIGHUP, drain on SIGTERM.

The socket is bound before anything else, so a busy port is a one-line error and a non-zero exit,
not a traceback. SIGHUP re-reads the config on a worker thread while requests keep being answered.
SIGUSR1 writes a heap report (``heapdump.py``). SIGTERM (and Ctrl-C) stop accepting connections,
let in-flight requests finish (up to ``DRAIN_SECONDS``), then exit 0; a second Ctrl-C forces it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import socket
import threading
from collections.abc import Generator
from types import FrameType

import uvicorn

from lapce_ai.service.app import create_app
from lapce_ai.service.heapdump import write_heap_report
from lapce_ai.service.netbind import StartupError, bind_socket
from lapce_ai.service.state import ServiceState

log = logging.getLogger("lapce_ai.service")

DRAIN_SECONDS = 30
__all__ = ["DRAIN_SECONDS", "StartupError", "bind_socket", "serve"]


class _Server(uvicorn.Server):
    def __init__(self, config: uvicorn.Config, state: ServiceState):
        super().__init__(config)
        self.state = state
        self._reloading: set[asyncio.Task[None]] = set()

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        loop = asyncio.get_running_loop()

        def on_stop(sig: int, _frame: FrameType | None) -> None:
            if self.should_exit and sig == signal.SIGINT:
                self.force_exit = True
                return
            if not self.should_exit:
                connections = len(self.server_state.connections)
                log.info(
                    "%s received: draining %d connection(s), then exiting",
                    signal.Signals(sig).name,
                    connections,
                    extra={"signal": signal.Signals(sig).name, "connections": connections},
                )
            self.should_exit = True

        def on_hup(_sig: int, _frame: FrameType | None) -> None:
            loop.call_soon_threadsafe(self._start_reload)

        def on_usr1(_sig: int, _frame: FrameType | None) -> None:
            loop.call_soon_threadsafe(self._start_heap_report)

        handlers = {signal.SIGTERM: on_stop, signal.SIGINT: on_stop, signal.SIGHUP: on_hup, signal.SIGUSR1: on_usr1}
        previous = {sig: signal.signal(sig, handler) for sig, handler in handlers.items()}
        try:
            yield
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)

    def _start_heap_report(self) -> None:
        cache_dir = self.state.settings.paths.cache_dir
        task = asyncio.ensure_future(asyncio.to_thread(write_heap_report, cache_dir))
        self._reloading.add(task)  # type: ignore[arg-type]
        task.add_done_callback(self._reloading.discard)  # type: ignore[arg-type]

    def _start_reload(self) -> None:
        log.info("SIGHUP received: reloading configuration")
        task = asyncio.ensure_future(asyncio.to_thread(self.state.reload))
        self._reloading.add(task)  # type: ignore[arg-type]
        task.add_done_callback(self._reloading.discard)  # type: ignore[arg-type]


def serve(state: ServiceState, sock: socket.socket, host: str, port: int) -> int:
    """Serve on the bound ``sock`` until SIGTERM/SIGINT; returns the exit code (0 after a clean drain)."""
    config = uvicorn.Config(
        create_app(state),
        log_config=None,
        access_log=False,
        lifespan="on",
        timeout_graceful_shutdown=DRAIN_SECONDS,
        timeout_keep_alive=15,
        server_header=False,
        http="h11",
        loop="asyncio",
        ws="none",
    )
    server = _Server(config, state)
    log.info(
        "lapce-ai-service listening on %s:%d",
        host,
        port,
        extra={"host": host, "port": port, "index": str(state.index_dir), "config": state.config_source},
    )
    server.run(sockets=[sock])
    log.info("lapce-ai-service stopped")
    return 0 if server.started else 1
