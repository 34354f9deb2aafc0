"""One explicit aws.Provider per region: the only place regions turn into providers.

Every resource is created with one of these providers (never Pulumi's default provider), so a
two-region stack cannot silently put a DR resource in the primary region. The providers carry the
stack's tags as default tags (cost allocation on everything) and pass through the `aws:` settings
LocalStack users put in their stack file (endpoints, skipCredentialsValidation, ...).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from infra.config import ConfigError, StackConfig

# `aws:` config keys passed through to every provider, as `pulumi.Config("aws")` spells them.
_PASS_THROUGH_FLAGS = (
    "skipCredentialsValidation",
    "skipRequestingAccountId",
    "skipMetadataApiCheck",
    "skipRegionValidation",
    "s3UsePathStyle",
)
_PASS_THROUGH_TEXT = ("accessKey", "profile")  # plus aws:secretKey, read as a secret


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def _endpoint_args(raw: Any) -> list[aws.ProviderEndpointArgs] | None:
    """`aws:endpoints` is a list of {service: url} maps, as in the LocalStack docs."""
    if raw is None:
        return None
    if not isinstance(raw, list) or not all(isinstance(item, dict) for item in raw):
        raise ConfigError("aws:endpoints: expected a list of {service: url} maps; see docs/config.md")
    endpoints = []
    for item in raw:
        try:
            endpoints.append(aws.ProviderEndpointArgs(**{_snake(key): value for key, value in item.items()}))
        except TypeError as error:
            raise ConfigError(f"aws:endpoints: {error}; use the pulumi-aws service names (s3, dynamodb, rds, ...)") from None
    return endpoints


@dataclass(frozen=True)
class ProviderSettings:
    """Settings shared by every regional provider, read once from the `aws:` namespace."""

    endpoints: list[aws.ProviderEndpointArgs] | None
    flags: dict[str, bool]
    text: dict[str, Any]  # secret_key is a secret Output

    @staticmethod
    def from_config(aws_config: pulumi.Config) -> ProviderSettings:
        try:
            endpoints = _endpoint_args(aws_config.get_object("endpoints"))
        except ConfigError:
            raise
        except Exception as error:  # noqa: BLE001 pulumi raises a bare JSON error
            raise ConfigError(f"aws:endpoints: not valid structured config ({error}); write a YAML list") from None
        flags = {}
        for key in _PASS_THROUGH_FLAGS:
            try:
                value = aws_config.get_bool(key)
            except Exception:  # noqa: BLE001 pulumi raises ConfigTypeError with a long message
                raise ConfigError(f"aws:{key}: expected true or false; fix the stack file") from None
            if value is not None:
                flags[_snake(key)] = value
        text: dict[str, Any] = {_snake(key): value for key in _PASS_THROUGH_TEXT if (value := aws_config.get(key))}
        # The secret key must stay a secret Output (encrypted in state, masked in logs), never text.
        secret_key = aws_config.get_secret("secretKey")
        if secret_key is not None:
            text["secret_key"] = secret_key
        return ProviderSettings(endpoints=endpoints, flags=flags, text=text)


class RegionalProviders:
    """The stack's providers, keyed by region name."""

    def __init__(self, config: StackConfig, settings: ProviderSettings) -> None:
        self.primary_region = config.primary_region
        self.dr_region = config.dr_region
        self.by_region: dict[str, aws.Provider] = {
            region: aws.Provider(
                f"aws-{region}",
                region=region,
                default_tags=aws.ProviderDefaultTagsArgs(tags=config.tags),
                endpoints=settings.endpoints,
                **settings.flags,
                **settings.text,
            )
            for region in config.regions
        }

    @property
    def primary(self) -> aws.Provider:
        return self.by_region[self.primary_region]

    @property
    def dr(self) -> aws.Provider:
        return self.by_region[self.dr_region]

    def __getitem__(self, region: str) -> aws.Provider:
        return self.by_region[region]
