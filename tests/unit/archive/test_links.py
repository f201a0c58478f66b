"""Links to archived objects: file URIs that lead back to the file, console URLs that name it."""

from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

from fwcost.archive.links import ConsoleLinks, FileLinks

# A team's report key: Hive-style `=` and a percent-encoded team name (name_segment)
KEY = (
    "fireworks/account=acme-ai/dt=2026-11-28/report/teams/a%2Fb/fwcost-acme-ai-2026-11-28-a%2Fb.csv"
)


def test_a_file_link_is_a_file_uri_that_leads_back_to_the_object(tmp_path: Path) -> None:
    link = FileLinks(tmp_path).link(KEY, "the csv")

    parts = urlsplit(link.url)
    assert parts.scheme == "file"
    assert Path(unquote(parts.path)) == tmp_path.resolve() / KEY  # `%2F` survives as text
    assert link.label == "the csv" and link.expires is None and not link.needs_sign_in


def test_a_relative_archive_folder_still_gives_an_absolute_uri(tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    link = FileLinks(Path("archive")).link("a/b.csv", "b.csv")
    assert link.url == (tmp_path.resolve() / "archive" / "a" / "b.csv").as_uri()


def test_a_console_link_names_the_bucket_region_and_whole_key() -> None:
    link = ConsoleLinks("acme-fwcost-archive", "eu-west-1").link(KEY, "Full report")

    parts = urlsplit(link.url)
    assert (parts.scheme, parts.netloc) == ("https", "console.aws.amazon.com")
    assert parts.path == "/s3/object/acme-fwcost-archive"
    assert parse_qs(parts.query) == {"region": ["eu-west-1"], "prefix": [KEY]}
    assert link.needs_sign_in and link.expires is None


def test_without_a_known_region_the_console_link_leaves_it_to_the_console() -> None:
    link = ConsoleLinks("acme-fwcost-archive", None).link("k.csv", "k.csv")
    assert parse_qs(urlsplit(link.url).query) == {"prefix": ["k.csv"]}
