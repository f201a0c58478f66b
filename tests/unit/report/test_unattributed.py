import pytest
from hypothesis import given
from hypothesis import strategies as st

from fwcost.report.unattributed import spread_cents


def test_shares_follow_each_teams_spend():
    assert spread_cents({"ads": 7500, "search": 2500}, 1000) == {"ads": 750, "search": 250}


def test_odd_cents_stay_within_a_cent_of_the_exact_share_and_add_up():
    shares = spread_cents({"a": 1, "b": 1, "c": 1}, 100)
    assert sum(shares.values()) == 100
    assert sorted(shares.values()) == [33, 33, 34]


def test_nobody_to_share_with_is_an_error():
    with pytest.raises(ValueError, match="no team spend"):
        spread_cents({"ads": 0}, 5)


@given(
    st.dictionaries(st.text(min_size=1), st.integers(1, 10**9), min_size=1, max_size=30),
    st.integers(-(10**7), 10**9),
)
def test_shares_add_up_exactly(team_cents, unattributed):
    shares = spread_cents(team_cents, unattributed)
    assert sum(shares.values()) == unattributed
    weight = sum(team_cents.values())
    for team, cents in team_cents.items():
        assert abs(shares[team] - unattributed * cents / weight) <= 1
