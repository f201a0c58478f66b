"""The daily email in a real browser engine: it draws something, and nothing overflows a phone.

Uses Debian's `chromium` in headless mode. The email itself carries no script; to measure the
layout, the test renders a copy with a one-line probe that writes the result into the title,
read back with --dump-dom. FWCOST_UPDATE_SCREENSHOTS=1 refreshes docs/screenshots/.
"""

import os
import re
import shutil
import subprocess
from datetime import date
from pathlib import Path

import pytest
from PIL import Image, ImageChops

from fwcost.report.attribution import attribute_day
from fwcost.report.pricebook import load_price_book
from fwcost.report.render import render_email_html
from fwcost.report.summary import summarize, team_summaries
from report_fixtures import demo_context, demo_history, demo_usage

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        shutil.which("chromium") is None,
        reason="chromium not installed (apt-get install -y chromium)",
    ),
]

SCREENSHOTS = Path(__file__).resolve().parents[3] / "docs" / "screenshots"
PROBE = (
    "<script>document.title = 'fit:' + (document.documentElement.scrollWidth"
    " <= window.innerWidth) + ':' + document.documentElement.scrollWidth;</script>"
)
PHONE, DESKTOP = 375, 1280


def chromium(tmp_path: Path, width: int, height: int, *args: str) -> str:
    command = [
        "chromium", "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
        "--no-first-run", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--hide-scrollbars", f"--user-data-dir={tmp_path / 'profile'}",
        f"--window-size={width},{height}", *args,
    ]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, check=True)
    return done.stdout


def fits(tmp_path: Path, html: str, width: int) -> str:
    page = tmp_path / f"probe-{width}.html"
    page.write_text(html.replace("</body>", PROBE + "</body>"))
    dom = chromium(tmp_path, width, 900, "--dump-dom", page.as_uri())
    match = re.search(r"<title>(fit:\w+:\d+)</title>", dom)
    assert match, dom[:500]
    return match.group(1)


def screenshot(tmp_path: Path, html: str, width: int, name: str) -> Image.Image:
    page = tmp_path / f"{name}.html"
    page.write_text(html)
    png = tmp_path / f"{name}.png"
    chromium(tmp_path, width, 2600, f"--screenshot={png}", page.as_uri())
    image = Image.open(png).convert("RGB")
    image.load()
    return image


def ink_share(image: Image.Image) -> float:
    """Share of pixels that differ from the page background (top-left corner)."""
    background = Image.new("RGB", image.size, image.getpixel((0, 0)))
    changed = ImageChops.difference(image, background).convert("L").point(lambda v: 255 * (v > 0))
    return changed.histogram()[255] / (image.width * image.height)


@pytest.fixture(scope="module")
def demo_html() -> str:
    today, history = demo_history(date(2026, 11, 1))
    return render_email_html(summarize(today, history, demo_context(today.day)))


def test_probe_catches_overflow(tmp_path):
    wide = "<html><body><table width='900'><tr><td>x</td></tr></table></body></html>"
    assert fits(tmp_path, wide, PHONE).startswith("fit:false")


@pytest.mark.parametrize("width", [PHONE, DESKTOP])
def test_email_fits_the_window(tmp_path, demo_html, width):
    assert fits(tmp_path, demo_html, width).startswith("fit:true")


def test_team_email_fits_a_phone(tmp_path):
    today, history = demo_history(date(2026, 11, 1))
    summary = summarize(today, history, demo_context(today.day))
    html = render_email_html(team_summaries(summary)["ads & growth"])
    assert fits(tmp_path, html, PHONE).startswith("fit:true")


@pytest.mark.parametrize(
    ("width", "name"), [(PHONE, "daily-email-phone"), (DESKTOP, "daily-email-desktop")]
)
def test_screenshot_is_not_blank(tmp_path, demo_html, width, name):
    image = screenshot(tmp_path, demo_html, width, name)
    assert image.width == width
    assert ink_share(image) > 0.05
    colours = image.resize((64, 64)).getcolors(maxcolors=64 * 64) or []
    assert len(colours) > 10
    if os.environ.get("FWCOST_UPDATE_SCREENSHOTS") == "1":
        crop_to_content(image).save(SCREENSHOTS / f"{name}.png", optimize=True)


def crop_to_content(image: Image.Image) -> Image.Image:
    """Cut the empty page below the email so the README image is the email itself."""
    background = image.getpixel((0, image.height - 1))
    bottom = image.height - 1
    while bottom > 0 and all(
        image.getpixel((x, bottom)) == background for x in range(0, image.width, 7)
    ):
        bottom -= 1
    return image.crop((0, 0, image.width, min(bottom + 16, image.height)))


def test_long_unbroken_names_do_not_widen_a_phone_email(tmp_path):
    long_name = "x" * 90
    extra = [
        (f"key_L0ng{n:04d}abcdefghijkl", f"{long_name}{n}", f"{long_name}-team") for n in range(30)
    ]
    usage = demo_usage(date(2026, 11, 1), extra_keys=extra)
    summary = summarize(attribute_day(usage, load_price_book()), {}, demo_context(usage.day))
    assert fits(tmp_path, render_email_html(summary), PHONE).startswith("fit:true")
