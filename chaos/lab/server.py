"""`LabServer`: moto's WSGI app behind `LabMiddleware`, served on 127.0.0.1 by werkzeug in a thread.

One endpoint for every region and service (moto dispatches on the SigV4 credential scope). Port 0
picks a free port; `endpoint` tells which. `stop()` shuts the server, the emulations' threads and
the PostgreSQL data plane down; use it as a context manager so that happens in a `finally`.
"""
from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import Any, Callable

from moto.moto_server.werkzeug_app import (DomainDispatcherApplication, MotoRequestHandler,
                                           create_backend_app)
from werkzeug.serving import BaseWSGIServer, make_server

from chaos.lab import motostate
from chaos.lab.core import Lab
from chaos.lab.middleware import LabMiddleware

HOST = "127.0.0.1"
# How often a serving loop checks for shutdown (socketserver's default, 0.5 s, made stopping the
# lab and its region endpoints one after the other take ~1.5 s of a 4 s game day).
SHUTDOWN_POLL_SECONDS = 0.05


class _QuietHandler(MotoRequestHandler):
    """No access log line per request: it costs throughput and drowns the lab's own output."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass


class _CachingDispatcher(DomainDispatcherApplication):
    """moto's host dispatcher, resolving each host to its backend once instead of per request.

    moto resolves the backend of every request under one process-wide lock, and the resolution
    scans moto's package directory (`list_of_moto_modules`: ~180 `isdir` calls, each releasing and
    re-taking the GIL). While any other lab thread is busy in Python (a runbook's restore, a large
    listing) every re-take waits up to the GIL switch interval: one resolution then took ~0.2 s
    with the lock held, and every moto request queued behind it, so the DynamoDB and S3 canaries
    stalled together (PostgreSQL, which does not go through moto, did not). The answer for a host
    never changes while the lab runs (it depends on moto's installed modules and URL patterns).
    """

    def __init__(self, create_app: Callable[[str], Any]) -> None:
        super().__init__(create_app)
        self._backend_by_host: dict[str | None, Any] = {}

    def get_backend_for_host(self, host: str | None) -> Any:
        # Called by `get_application` with `self.lock` held, so the dict needs no lock of its own.
        if host not in self._backend_by_host:
            self._backend_by_host[host] = super().get_backend_for_host(host)
        return self._backend_by_host[host]


class LabServer:
    def __init__(self, port: int = 0, *, time_factor: float = 1.0, workdir: Path | None = None):
        motostate.use_lab_images()  # before moto's EC2 models load (at the first EC2 request)
        self.lab = Lab(workdir=workdir, time_factor=time_factor)
        app = LabMiddleware(_CachingDispatcher(create_backend_app), self.lab)
        # werkzeug logs every request and moto's unimplemented-API tracebacks at INFO/ERROR
        logging.getLogger("werkzeug").setLevel(logging.CRITICAL)
        self._server: BaseWSGIServer = make_server(HOST, port, app, threaded=True,
                                                   request_handler=_QuietHandler)
        self.lab.endpoint = self.endpoint
        self._thread = threading.Thread(target=self._server.serve_forever, args=(SHUTDOWN_POLL_SECONDS,),
                                        name="lab-http", daemon=True)

    @property
    def port(self) -> int:
        return int(self._server.server_port)

    @property
    def endpoint(self) -> str:
        return f"http://{HOST}:{self.port}"

    def start(self) -> "LabServer":
        self._thread.start()
        return self

    def stop(self) -> None:
        try:
            if self._thread.is_alive():
                self._server.shutdown()
            self._server.server_close()
        finally:
            self.lab.close()

    def __enter__(self) -> "LabServer":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
