"""The region rules every two-region component checks on its arguments, worded the same everywhere.

A component gets plain region names and a `providers` map (region name -> `aws.Provider`, built
once in `infra.providers`); it declares each child with the provider of the child's region.
"""

from __future__ import annotations

from collections.abc import Mapping


def check_two_regions(
    args_name: str, primary_region: str, dr_region: str, providers: Mapping[str, object], error: type[ValueError]
) -> None:
    """Refuse a DR region equal to the primary, or a region without a provider (one-line `error`)."""
    if primary_region == dr_region:
        raise error(f"{args_name}.dr_region: must differ from primary_region")
    missing = {primary_region, dr_region} - set(providers)
    if missing:
        raise error(f"{args_name}.providers: no provider for {sorted(missing)}")
