"""`LabServer`: moto's WSGI app behind `LabMiddleware`, served on 127.0.0.1 by werkzeug in a thread.

One endpoint for every region and service (moto dispatches on the SigV4 credential scope). Port 0
picks a free port; `endpoint` tells which. `stop()` shuts the server, the emulations' threads and
the PostgreSQL data plane down; use it as a context manager so that happens in a `finally`.
"""
from __future__ import annotations

import logging
import threading
from pathlib import Path

from moto.moto_server.werkzeug_app import (DomainDispatcherApplication, MotoRequestHandler,
                                           create_backend_app)
from werkzeug.serving import BaseWSGIServer, make_server

from chaos.lab.core import Lab
from chaos.lab.middleware import LabMiddleware

HOST = "127.0.0.1"


class _QuietHandler(MotoRequestHandler):
    """No access log line per request: it costs throughput and drowns the lab's own output."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass


class LabServer:
    def __init__(self, port: int = 0, *, time_factor: float = 1.0, workdir: Path | None = None):
        self.lab = Lab(workdir=workdir, time_factor=time_factor)
        app = LabMiddleware(DomainDispatcherApplication(create_backend_app), self.lab)
        # werkzeug logs every request and moto's unimplemented-API tracebacks at INFO/ERROR
        logging.getLogger("werkzeug").setLevel(logging.CRITICAL)
        self._server: BaseWSGIServer = make_server(HOST, port, app, threaded=True,
                                                   request_handler=_QuietHandler)
        self.lab.endpoint = self.endpoint
        self._thread = threading.Thread(target=self._server.serve_forever, name="lab-http", daemon=True)

    @property
    def endpoint(self) -> str:
        return f"http://{HOST}:{self._server.server_port}"

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
