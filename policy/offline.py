"""Run the policy pack without the Pulumi CLI: over the mock runtime's view of a stack.

`pulumi preview --policy-pack policy` hands each policy the engine's resources. Here the same
`PolicyResource` objects are built from `infra.offline.evaluate_stack`: properties are the mock
engine's inputs and outputs (camelCase, as the engine passes them), each resource's provider
carries its region and default tags, and `property_dependencies` is rebuilt from values: a
property whose value is another resource's id, ARN or name was computed from that resource, which
is what the engine records when an Output flows from one resource into another.

    .venv/bin/python -m policy.offline --stack prod [--json]

Exit codes: 0 no mandatory violation, 1 a mandatory violation, 2 bad input.
"""
from __future__ import annotations

import argparse
import asyncio
import inspect
import json
import sys
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from typing import Any

from pulumi_policy import (EnforcementLevel, PolicyCustomTimeouts, PolicyProviderResource,
                           PolicyResource, PolicyResourceOptions, ResourceValidationArgs,
                           ResourceValidationPolicy, StackValidationArgs, StackValidationPolicy)

from policy.dr_rules import DEFAULTS, POLICIES

# Outputs that name a resource: a property holding one of these values refers to that resource.
IDENTITY_OUTPUTS = ("arn", "name", "bucket", "identifier", "id", "fileSystemId")


@dataclass(frozen=True)
class Violation:
    policy: str
    level: str  # "mandatory" or "advisory"
    message: str
    urn: str | None


def _strings(value: Any) -> Iterable[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, Mapping):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from _strings(item)


def policy_resources(declared: Iterable[Any]) -> list[PolicyResource]:
    """PolicyResource objects for the custom resources of an offline evaluation."""
    declared = list(declared)
    providers = {}
    for resource in declared:
        if resource.type == "pulumi:providers:aws":
            props = {**resource.inputs, **resource.outputs}
            providers[resource.name] = PolicyProviderResource(resource.type, props, resource.urn,
                                                              resource.name)
    customs = [r for r in declared if r.custom and not r.type.startswith("pulumi:providers:")]
    options = PolicyResourceOptions(False, [], None, [], PolicyCustomTimeouts(0, 0, 0), [])
    built = {r.urn: PolicyResource(r.type, {**r.inputs, **r.outputs}, r.urn, r.name, options,
                                   providers.get(r.provider) if r.provider else None, None, [], {})
             for r in customs}
    owners: dict[str, PolicyResource] = {}
    for r in customs:
        values = [r.id] + [r.outputs.get(key) for key in IDENTITY_OUTPUTS]
        for value in values:
            if isinstance(value, str) and value:
                owners.setdefault(value, built[r.urn])
    for r in customs:
        resource = built[r.urn]
        for prop, value in r.inputs.items():
            deps = {owners[s].urn: owners[s] for s in _strings(value)
                    if s in owners and owners[s].urn != r.urn}
            if deps:
                resource.property_dependencies[prop] = list(deps.values())
                resource.dependencies.extend(d for d in deps.values() if d not in resource.dependencies)
    return list(built.values())


def _settle(result: Any) -> None:
    if result is not None and inspect.isawaitable(result):
        asyncio.run(result)


def run_policies(resources: list[PolicyResource], config: Mapping[str, Any] | None = None,
                 policies: Iterable[Any] = POLICIES) -> list[Violation]:
    """Every violation the pack reports for `resources`, in policy order."""
    config = {**DEFAULTS, **(config or {})}
    violations: list[Violation] = []
    for policy in policies:
        level = policy.enforcement_level.value

        def report(message: str, urn: str | None = None, *, _p=policy, _l=level) -> None:
            violations.append(Violation(_p.name, _l, message, urn))

        if isinstance(policy, ResourceValidationPolicy):
            for resource in resources:
                args = ResourceValidationArgs(resource.resource_type, resource.props, resource.urn,
                                              resource.name, resource.opts, resource.provider, config)
                _settle(policy.validate(args, lambda m, u=None, _r=resource: report(m, _r.urn)))
        elif isinstance(policy, StackValidationPolicy):
            _settle(policy.validate(StackValidationArgs(resources, config), report))
    return violations


def check_stack(stack: str, config: Mapping[str, Any] | None = None) -> list[Violation]:
    from infra.offline import evaluate_stack

    return run_policies(policy_resources(evaluate_stack(stack).resources), config)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m policy.offline",
                                     description="Run the DR policy pack over a stack, offline.")
    parser.add_argument("--stack", required=True, help="stack name (Pulumi.<stack>.yaml)")
    parser.add_argument("--json", action="store_true", help="print violations as JSON")
    args = parser.parse_args(argv)
    from infra.config import ConfigError

    try:
        violations = check_stack(args.stack)
    except (ConfigError, FileNotFoundError) as err:
        print(f"error: --stack {args.stack}: {str(err).splitlines()[0]}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps([asdict(v) for v in violations], indent=2))
    else:
        for v in violations:
            print(f"[{v.level}] {v.policy}: {v.message}")
        mandatory = sum(v.level == EnforcementLevel.MANDATORY.value for v in violations)
        print(f"policy pack: {len(violations)} violations ({mandatory} mandatory) on stack {args.stack}")
    return 1 if any(v.level == EnforcementLevel.MANDATORY.value for v in violations) else 0


if __name__ == "__main__":
    sys.exit(main())
