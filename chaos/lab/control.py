"""The lab's own HTTP APIs (docs/ARCHITECTURE.md): the LocalStack-compatible Chaos API under
`/_localstack/chaos/` and the lab control API under `/_lab/`. JSON in, JSON out; a bad body is a
400 with a one-line `error` naming the field."""
from __future__ import annotations

import json
import logging
from typing import TYPE_CHECKING, Any, Callable, Iterable

from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.wrappers import Request, Response

from chaos.errors import ChaosError
from chaos.lab.deploy import MAX_TIME_FACTOR, DeployError, check_duration
from chaos.lab.faults import MAX_BODY_BYTES, RuleError, validate_latency

if TYPE_CHECKING:
    from chaos.lab.core import Lab

log = logging.getLogger(__name__)


# A deploy body carries a whole inventory (prod's is ~40 KB); chaos.targets.inventory bounds it
# again by size and nesting.
MAX_DEPLOY_BODY_BYTES = 4 * 1024 * 1024


class BadBody(ValueError):
    pass


class ControlApi:
    def __init__(self, lab: "Lab"):
        self.lab = lab
        self._routes: dict[tuple[str, str], Callable[[Request], Any]] = {
            ("GET", "/_localstack/chaos/faults"): lambda r: self._rules(),
            ("POST", "/_localstack/chaos/faults"): lambda r: self._rules(self.lab.faults.replace(_json(r))),
            ("PATCH", "/_localstack/chaos/faults"): lambda r: self._rules(self.lab.faults.add(_json(r))),
            ("DELETE", "/_localstack/chaos/faults"): lambda r: self._rules(self.lab.faults.remove(_json(r))),
            ("GET", "/_localstack/chaos/effects"): lambda r: {"latency": self.lab.faults.latency_ms},
            ("POST", "/_localstack/chaos/effects"): self._set_effects,
            ("GET", "/_localstack/health"): lambda r: {"services": {}, "edition": "securecart-lab"},
            ("GET", "/_lab/health"): self._health,
            ("POST", "/_lab/deploy"): self._deploy,
            ("POST", "/_lab/reset"): self._reset,
            ("GET", "/_lab/replication"): lambda r: self.lab.replication_links(),
            ("POST", "/_lab/replication"): self._configure_replication,
            ("GET", "/_lab/events"): lambda r: self.lab.lab_events(float(r.args.get("since") or 0)),
            ("POST", "/_lab/dlm/run"): self._run_dlm,
            **self.lab.backup.control_routes(_json),  # /_lab/backup/* (docs/backup-lab.md)
        }

    def __call__(self, environ: dict[str, Any], start_response: Callable) -> Iterable[bytes]:
        request = Request(environ)
        request.max_content_length = MAX_BODY_BYTES if request.path.startswith("/_localstack/") \
            else MAX_DEPLOY_BODY_BYTES
        route = self._routes.get((request.method, request.path.rstrip("/") or "/"))
        if route is None:
            response = _reply({"error": f"{request.method} {request.path}: no such lab endpoint"}, 404)
        else:
            try:
                response = _reply(route(request))
            except (BadBody, RuleError, DeployError, ChaosError, ValueError) as error:
                response = _refusal(request, str(error).splitlines()[0] if str(error) else type(error).__name__)
            except Exception as error:  # the lab stays up; the caller gets one line
                log.exception("lab control call failed")
                response = _reply({"error": f"{type(error).__name__}: {error}"}, 500)
        return response(environ, start_response)

    def _rules(self, rules: list | None = None) -> list[dict[str, Any]]:
        return [rule.to_json() for rule in (self.lab.faults.rules() if rules is None else rules)]

    def _set_effects(self, request: Request) -> dict[str, Any]:
        body = _json(request)
        if not isinstance(body, dict) or set(body) - {"latency"}:
            raise BadBody('effects: body must be {"latency": <milliseconds>}')
        self.lab.faults.latency_ms = validate_latency(body.get("latency", 0))
        return {"latency": self.lab.faults.latency_ms}

    def _health(self, request: Request) -> dict[str, Any]:
        return {"status": "ready", "endpoint": self.lab.endpoint, "regions": self.lab.regions}

    def _deploy(self, request: Request) -> dict[str, Any]:
        body = _json(request)
        if not isinstance(body, dict) or "inventory" not in body:
            raise BadBody('deploy: body must be {"inventory": {...}, "replication_lag_seconds": ..., '
                          '"time_factor": ...}')
        profile = body.get("profile")
        if profile is not None and not isinstance(profile, str):
            raise BadBody('deploy.profile: must be "aws" or "mechanics"')
        # Numbers are checked by the lab (check_deploy_request) before anything running is touched.
        return self.lab.deploy(body["inventory"], body.get("replication_lag_seconds"), body.get("time_factor"),
                               profile)

    def _reset(self, request: Request) -> dict[str, Any]:
        body = _json(request)
        factor = body.get("time_factor") if isinstance(body, dict) else None
        return self.lab.reset(None if factor is None else check_duration("reset.time_factor", factor,
                                                                         MAX_TIME_FACTOR, positive=True))

    def _run_dlm(self, request: Request) -> list[dict[str, Any]]:
        body = _json(request)
        if not isinstance(body, dict) or not isinstance(body.get("workload"), str):
            raise BadBody('dlm.workload: body must be {"workload": "<name>"} (a workload with a DLM schedule)')
        return self.lab.ebs.run_now(body["workload"])

    def _configure_replication(self, request: Request) -> list[dict[str, Any]]:
        body = _json(request)
        if not isinstance(body, dict):
            raise BadBody('replication: body must be {"workload": name|null, "paused": bool|null, '
                          '"lag_seconds": float|null}')
        paused = body.get("paused")
        if paused is not None and not isinstance(paused, bool):
            raise BadBody("replication.paused: must be true, false or null")
        return self.lab.configure_replication(body.get("workload"), paused, body.get("lag_seconds"))


def _json(request: Request) -> Any:
    try:
        data = request.get_data()
    except RequestEntityTooLarge:
        raise BadBody(f"body: larger than {request.max_content_length} bytes; send less") from None
    try:
        return json.loads(data or b"null")
    except RecursionError:
        raise BadBody("body: JSON nested too deeply") from None
    except ValueError as error:
        raise BadBody(f"body: not valid JSON ({error})") from None


def _refusal(request: Request, reason: str) -> Response:
    """A 400 with one line. The Chaos API answers in LocalStack's shape, `{"message": ...}` (its
    tests: `{"message": "Error validating JSON schema: ..."}`); the lab's own API with `error`."""
    if request.path.startswith("/_localstack/"):
        return _reply({"message": f"Error validating fault configuration: {reason}"}, 400)
    return _reply({"error": reason}, 400)


def _reply(payload: Any, status: int = 200) -> Response:
    return Response(json.dumps(payload, default=str), status=status, mimetype="application/json")
