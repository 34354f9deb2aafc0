"""IAM policy documents and roles, written one way for every component.

Not a component: a role belongs to the component whose service assumes it (its parent in `opts`).
`policy_document`/`statement` also write the resource policies (SNS topics, the report bucket).

Five services act for this program: AWS Backup, AWS FIS, S3 replication, RDS snapshot export and
Data Lifecycle Manager. Each needs the same three things, declared here with one naming scheme:

    <name>                 the role, trusting exactly one principal (a service, or an account)
    <name>-<key>           one attachment per AWS managed policy the service documents
    <policy_name>          the inline policy with exactly the extra actions this program needs

Documents are built with `pulumi.Output.json_dumps`, not the `aws.iam.getPolicyDocument` data
source: resource ARNs are Outputs anyway, and a document built locally needs no provider call
(none to forget the provider on, and none to wait for at preview).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pulumi
import pulumi_aws as aws

POLICY_VERSION = "2012-10-17"

#: The value of a policy field: one string, or a list (written as given, so documents stay exact).
Values = str | pulumi.Input[str] | Sequence[pulumi.Input[str]]


def statement(
    actions: str | Sequence[str],
    resources: Values | None = None,
    condition: Mapping[str, Mapping[str, Any]] | None = None,
    *,
    sid: str | None = None,
    effect: str = "Allow",
    principal: Mapping[str, Any] | str | None = None,
) -> dict[str, Any]:
    """One policy statement; `resources` is omitted in trust policies (the role is the resource)."""
    built: dict[str, Any] = {}
    if sid:
        built["Sid"] = sid
    built["Effect"] = effect
    if principal is not None:
        built["Principal"] = principal if isinstance(principal, str) else dict(principal)
    built["Action"] = actions if isinstance(actions, str) else list(actions)
    if resources is not None:
        built["Resource"] = resources if isinstance(resources, (str, pulumi.Output)) else list(resources)
    if condition:
        built["Condition"] = {test: dict(values) for test, values in condition.items()}
    return built


def policy_document(statements: Sequence[Mapping[str, Any]]) -> pulumi.Output[str]:
    """The JSON policy document (Outputs inside the statements are resolved first)."""
    return pulumi.Output.json_dumps({"Version": POLICY_VERSION, "Statement": [dict(s) for s in statements]})


def service(host: str) -> dict[str, str]:
    """The principal of an AWS service, e.g. ``service("backup.amazonaws.com")``."""
    return {"Service": host}


def trust_policy(principal: Mapping[str, Any], condition: Mapping[str, Mapping[str, Any]] | None = None) -> pulumi.Output[str]:
    """Who may assume the role: ``service(...)`` or ``{"AWS": <account or role ARNs>}``."""
    return policy_document([statement("sts:AssumeRole", principal=principal, condition=condition)])


def role(
    name: str,
    *,
    trusted: Mapping[str, Any],
    tags: Mapping[str, str],
    opts: pulumi.ResourceOptions,
    description: str | None = None,
    condition: Mapping[str, Mapping[str, Any]] | None = None,
    managed_policies: Mapping[str, str] | None = None,
    inline_policy: pulumi.Input[str] | None = None,
    inline_policy_name: str | None = None,
    max_session_duration: int | None = None,
) -> aws.iam.Role:
    """Declare role `name` trusting `trusted` (and `condition`), its managed-policy attachments and inline policy.

    `managed_policies` maps an attachment key (the `<key>` in `<name>-<key>`) to a policy ARN;
    `inline_policy` is a document from :func:`policy_document`, declared as `inline_policy_name`
    (default `<name>-policy`). `opts` carries the parent and the (primary-region) provider: IAM
    is global, so every role of the stack is declared through one provider.
    """
    declared = aws.iam.Role(
        name,
        description=description,
        assume_role_policy=trust_policy(trusted, condition),
        max_session_duration=max_session_duration,
        tags=dict(tags),
        opts=opts,
    )
    for key, policy_arn in (managed_policies or {}).items():
        aws.iam.RolePolicyAttachment(f"{name}-{key}", role=declared.name, policy_arn=policy_arn, opts=opts)
    if inline_policy is not None:
        aws.iam.RolePolicy(inline_policy_name or f"{name}-policy", role=declared.id, policy=inline_policy, opts=opts)
    return declared

