"""The lab's answers to Route 53 `GetHealthCheckStatus` and `TestDNSAnswer`, in Route 53's XML.

Both read moto's current state (record sets changed by a runbook count) and the lab's own
health-check evaluation (chaos.lab.health):
- failover routing: PRIMARY if its health check is healthy, else SECONDARY (if every record is
  unhealthy Route 53 answers as if all were healthy, so PRIMARY);
- latency / weighted routing: the healthy record for the primary region first, else any healthy
  one (the lab has no client location to measure latency from).
A record without a health check is healthy; a Disabled check counts as healthy, an Inverted one
upside down, as on Route 53.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any
from xml.sax.saxutils import escape

from chaos.lab import motostate
from chaos.lab.health import HealthMonitor

_NS = "https://route53.amazonaws.com/doc/2013-04-01/"


class Route53Refused(Exception):
    def __init__(self, status: int, code: str, message: str):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


@dataclass
class Route53Answers:
    monitor: HealthMonitor
    primary_region: str = ""
    # set_identifier -> region, for weighted records (which carry no region on Route 53)
    record_regions: dict[str, str] = field(default_factory=dict)

    def is_healthy(self, check_id: str | None) -> bool:
        if not check_id:
            return True
        state = self.monitor.check(check_id)
        config = motostate.route53_backend().health_checks.get(check_id)
        if config is not None and config.disabled:
            return True
        healthy = True if state is None else state.healthy
        return (not healthy) if (config is not None and config.inverted) else healthy

    def health_check_status_xml(self, check_id: str) -> bytes:
        state = self.monitor.check(check_id)
        if state is None:
            raise Route53Refused(404, "NoSuchHealthCheck",
                                 f"No health check with id {check_id} is evaluated by the lab")
        healthy = self.is_healthy(check_id)
        status = state.last_result if state.last_result.startswith("Success" if healthy else "Failure") \
            else ("Success: HTTP Status Code 200, OK" if healthy else "Failure: unhealthy")
        checked = datetime.fromtimestamp(state.last_checked or 0, timezone.utc)
        return (f'<?xml version="1.0" encoding="UTF-8"?>\n<GetHealthCheckStatusResponse xmlns="{_NS}">'
                f"<HealthCheckObservations><HealthCheckObservation><Region>{state.region}</Region>"
                f"<IPAddress>127.0.0.1</IPAddress><StatusReport><Status>{escape(status)}</Status>"
                f"<CheckedTime>{checked.strftime('%Y-%m-%dT%H:%M:%S.%fZ')}</CheckedTime></StatusReport>"
                f"</HealthCheckObservation></HealthCheckObservations></GetHealthCheckStatusResponse>"
                ).encode()

    def test_dns_answer_xml(self, zone_id: str, record_name: str, record_type: str) -> bytes:
        values, code = self.resolve(zone_id, record_name, record_type)
        entries = "".join(f"<RecordDataEntry>{escape(v)}</RecordDataEntry>" for v in values)
        return (f'<?xml version="1.0" encoding="UTF-8"?>\n<TestDNSAnswerResponse xmlns="{_NS}">'
                f"<Nameserver>ns-lab.awsdns.lab</Nameserver><RecordName>{escape(record_name)}</RecordName>"
                f"<RecordType>{escape(record_type)}</RecordType><RecordData>{entries}</RecordData>"
                f"<ResponseCode>{code}</ResponseCode><Protocol>UDP</Protocol></TestDNSAnswerResponse>"
                ).encode()

    def resolve(self, zone_id: str, record_name: str, record_type: str) -> tuple[list[str], str]:
        """The values Route 53 would answer, and the DNS response code."""
        backend = motostate.route53_backend()
        zone_id = zone_id.split("/")[-1]
        try:
            zone = backend.get_hosted_zone(zone_id)
        except Exception as error:
            raise Route53Refused(404, "NoSuchHostedZone", f"No hosted zone found with ID: {zone_id}") from error
        wanted = record_name.rstrip(".").lower()
        candidates = [r for r in zone.rrsets
                      if r.name.rstrip(".").lower() == wanted and r.type == record_type]
        if not candidates:
            return [], "NXDOMAIN"
        chosen = self._choose(candidates)
        return answer_values(chosen), "NOERROR"

    def _choose(self, records: list[Any]) -> Any:
        if len(records) == 1 or not records[0].set_identifier:
            return records[0]
        healthy = [r for r in records if self.is_healthy(r.health_check_id)]
        if any(r.failover for r in records):
            by_role = {str(r.failover).upper(): r for r in records}
            primary, secondary = by_role.get("PRIMARY"), by_role.get("SECONDARY")
            if primary is not None and primary in healthy:
                return primary
            if secondary is not None and secondary in healthy:
                return secondary
            return primary or records[0]
        pool = healthy or records  # all unhealthy: Route 53 answers as if all were healthy
        for record in pool:
            if self._region_of(record) == self.primary_region:
                return record
        return max(pool, key=lambda r: int(r.weight or 0))

    def _region_of(self, record: Any) -> str | None:
        return record.region or self.record_regions.get(record.set_identifier)


def answer_values(record: Any) -> list[str]:
    """What a record set answers: its alias target's name, or its values."""
    if record.alias_target:
        return [record.alias_target.get("DNSName", "")]
    return [value if isinstance(value, str) else value.get("Value", "") for value in record.records]
