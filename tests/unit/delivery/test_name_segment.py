"""name_segment: the one encoding of a name (team, key, model) into a key or path segment."""

from __future__ import annotations

import re
from urllib.parse import unquote

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fwcost.delivery.model import MAX_SEGMENT_BYTES, audience_segment, name_segment
from fwcost.simulator.catalog import HOSTILE_NAMES, LONG_NAME

SAFE_SEGMENT = re.compile(r"[A-Za-z0-9._~%=-]+")
# Any text at all, lone surrogates included (JSON can carry one), and some very long.
ANY_NAME = st.text(st.characters(exclude_categories=()), min_size=1, max_size=300) | st.text(
    min_size=90, max_size=3000
)


@given(ANY_NAME)
def test_any_name_gives_a_safe_bounded_segment_that_is_never_a_path_step(name: str) -> None:
    segment = name_segment(name)

    assert SAFE_SEGMENT.fullmatch(segment)
    assert len(segment.encode()) <= MAX_SEGMENT_BYTES
    assert segment not in (".", "..")
    assert "/" not in segment and "\\" not in segment


@given(st.lists(ANY_NAME, min_size=2, max_size=40, unique=True))
def test_different_names_never_share_a_segment(names: list[str]) -> None:
    assert len({name_segment(name) for name in names}) == len(names)


@given(ANY_NAME)
def test_a_whole_segment_decodes_back_to_its_name(name: str) -> None:
    segment = name_segment(name)
    if "~" not in segment:  # a cut one is the readable head and a digest instead
        assert unquote(segment, errors="surrogatepass") == name


def test_plain_names_are_their_own_segment_and_hive_style_stays_readable() -> None:
    assert name_segment("search") == "search"
    assert name_segment("ml-platform_2.0") == "ml-platform_2.0"
    assert audience_segment("search") == "team=search"
    assert audience_segment(None) == "audience=overall"


@pytest.mark.parametrize(
    ("name", "segment"),
    [
        ("..", "%2E%2E"),
        (".", "%2E"),
        ("../etc", "..%2Fetc"),  # one segment: the slash is encoded
        ("a/b", "a%2Fb"),
        ("\\", "%5C"),
        ("line\r\nbreak", "line%0D%0Abreak"),
        ("nul\x00", "nul%00"),
        ("~", "%7E"),  # `~` only ever marks a cut segment
        ("%2E%2E", "%252E%252E"),  # the encoding of '..' is a different name, and segment
        ("audience=overall", "audience%3Doverall"),
        ("🔥", "%F0%9F%94%A5"),
    ],
)
def test_what_is_encoded(name: str, segment: str) -> None:
    assert name_segment(name) == segment


def test_no_team_lands_on_the_overall_audience_or_on_another_team() -> None:
    # Given every hostile name, and names built to collide: the long name's own segment,
    # and the encodings of others taken as names
    twin = name_segment(LONG_NAME)
    names = {*HOSTILE_NAMES, twin, "%2E%2E", "audience%3Doverall"}

    segments = [audience_segment(name) for name in names]

    assert len(set(segments)) == len(names)
    assert audience_segment(None) not in segments
    assert name_segment(twin) != twin  # its `~` is encoded: the twin is not the long name


def test_a_long_name_keeps_a_readable_head_and_a_digest() -> None:
    segment = name_segment(LONG_NAME)

    assert len(segment) == MAX_SEGMENT_BYTES
    assert re.fullmatch(r"team-x+~[0-9a-f]{24}", segment)
    assert name_segment(LONG_NAME + "y") != segment
    # A multi-byte character is never cut in half
    assert name_segment("é" * 60).split("~")[0].endswith("%C3%A9")


def test_an_empty_name_has_no_segment() -> None:
    with pytest.raises(ValueError, match="non-empty"):
        name_segment("")
