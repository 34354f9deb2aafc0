"""The price table: every figure has a source, a date and the regions it holds for; a figure read for
one region is never used for another; and priced lines add up as worked by hand below."""
from __future__ import annotations

import datetime as dt

import pytest

from infra.cost.engine import Ledger
from infra.cost.estimate import UNIT_DIVISOR, price_ledger
from infra.cost.prices import PRICED_REGIONS, PRICES, UNSOURCED, MissingPrice, price


@pytest.mark.parametrize("key", sorted(PRICES))
def test_every_price_has_a_source_a_date_a_unit_and_its_regions(key):
    entry = PRICES[key]
    assert entry.usd > 0, key
    assert entry.unit in UNIT_DIVISOR, key
    assert "https://" in entry.source, key
    dt.date.fromisoformat(entry.read_on)
    assert entry.regions and set(entry.regions) <= set(PRICED_REGIONS), key


def test_a_price_read_for_us_east_1_only_is_not_used_for_us_west_2():
    assert price("s3.transition.GLACIER", "us-east-1").usd == 0.03
    with pytest.raises(MissingPrice, match="'s3.transition.GLACIER' in us-west-2: its source covers us-east-1"):
        price("s3.transition.GLACIER", "us-west-2")


def test_rtc_holds_in_both_regions_because_aws_states_one_price_everywhere():
    assert price("s3.rtc", "us-east-1") == price("s3.rtc", "us-west-2")
    assert price("s3.rtc", "us-west-2").usd == 0.015


@pytest.mark.parametrize("key, region", sorted(UNSOURCED))
def test_what_is_listed_as_unsourced_really_has_no_price(key, region):
    # Adding a sourced price must also take the line off UNSOURCED (and out of docs/cost.md).
    with pytest.raises(MissingPrice):
        price(key, region)


def test_transitions_and_rtc_price_by_hand_and_other_regions_stay_unpriced():
    ledger = Ledger()
    transitions = ledger.flow("versions", "s3.transition.STANDARD_IA", "us-east-1")
    deep = ledger.flow("versions", "s3.transition.DEEP_ARCHIVE", "us-east-1")
    rtc = ledger.flow("replica", "s3.rtc", "us-east-1")
    replica_transitions = ledger.flow("replica", "s3.transition.GLACIER", "us-west-2")
    for day in range(365):
        transitions[day] = 5_000.0
        deep[day] = 1_000.0
        rtc[day] = 2.0
        replica_transitions[day] = 4_000.0
    lines, unpriced = price_ledger("w", ledger)
    by_key = {(line.key, line.region): line for line in lines}
    # December is days 334..364, 31 days.
    # 31 x 5,000 requests = 155,000 = 155 thousand x $0.01 = $1.55
    assert by_key[("s3.transition.STANDARD_IA", "us-east-1")].steady_usd == pytest.approx(1.55)
    # 31 x 1,000 = 31 thousand x $0.05 = $1.55
    assert by_key[("s3.transition.DEEP_ARCHIVE", "us-east-1")].steady_usd == pytest.approx(1.55)
    # 31 x 2 GB = 62 GB x $0.015 = $0.93
    assert by_key[("s3.rtc", "us-east-1")].steady_usd == pytest.approx(0.93)
    assert by_key[("s3.rtc", "us-east-1")].service == "Amazon Simple Storage Service"
    # The us-west-2 transitions have no sourced price: listed with their December quantity, no dollars.
    assert ("s3.transition.GLACIER", "us-west-2") not in by_key
    [left_out] = unpriced
    assert (left_out.key, left_out.region, left_out.unit) == ("s3.transition.GLACIER", "us-west-2", "requests")
    assert left_out.quantity == pytest.approx(31 * 4_000)
