"""The daily email in a real browser engine: at a phone's and a desktop's width, in light and dark
mode, nothing overflows its box, no word is broken inside, and every text is readable.

Uses Debian's `chromium` in headless mode, twice per run (light, dark): one page holds every email
at both widths as same-origin iframes, and a probe script measures each one's layout and writes
the findings into the page, read back with --dump-dom. The emails themselves carry no script.
FWCOST_UPDATE_SCREENSHOTS=1 refreshes docs/screenshots/.
"""

import html
import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from PIL import Image, ImageChops
from report_emails import (
    HOSTILE_NAMES,
    demo_summary,
    edge_emails,
    emails_of,
    hostile_summary,
    team_email,
)

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        shutil.which("chromium") is None,
        reason="chromium not installed (apt-get install -y chromium)",
    ),
]

SCREENSHOTS = Path(__file__).resolve().parents[3] / "docs" / "screenshots"
PHONE, DESKTOP = 375, 1280
SCHEMES = {"light": 1, "dark": 0}  # Blink's preferredColorScheme: 0 is dark
MIN_CONTRAST = 4.5  # WCAG AA for body text

# Runs in the page that holds the iframes, once they have loaded. For each email it reports:
# - overflows: an element or a text whose box leaves its enclosing cell or table (the layout box
#   that should hold it), so a table running past the card is caught, not only page scrolling;
# - broken: a word (a run of letters or digits of an alphabetic script) laid out on two lines;
# - low_contrast: a text whose colour reaches less than MIN_CONTRAST on its background.
PROBE = """
const WORD = /(?:(?![\\p{Script=Han}\\p{Script=Hiragana}\\p{Script=Katakana}])[\\p{L}\\p{N}\\p{M}])+/gu;
function rgb(css) {
  const [r, g, b, a = 1] = css.match(/[\\d.]+/g).map(Number);
  return {r, g, b, a};
}
function luminance({r, g, b}) {
  const f = (c) => (c /= 255) <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
}
function background(win, el) {
  for (; el; el = el.parentElement) {
    const colour = rgb(win.getComputedStyle(el).backgroundColor);
    if (colour.a > 0) return colour;
  }
  return {r: 255, g: 255, b: 255, a: 1};
}
function describe(el, text) {
  const classes = String(el.className || '').trim().replace(/\\s+/g, '.');
  return `${el.tagName.toLowerCase()}${classes ? '.' + classes : ''} "${text.trim().slice(0, 60)}"`;
}
function probe(win) {
  const doc = win.document;
  const card = doc.querySelector('.card');
  const found = {
    width: win.innerWidth, scrollWidth: doc.documentElement.scrollWidth,
    overflows: [], broken: [], low_contrast: [],
  };
  const whole = card.getBoundingClientRect();
  if (whole.right > win.innerWidth + 0.5) {
    found.overflows.push(`the card spans ${Math.round(whole.right)} px, the window ${win.innerWidth}`);
  }
  const range = doc.createRange();
  const walker = doc.createTreeWalker(card, NodeFilter.SHOW_ELEMENT | NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const node = walker.currentNode;
    const isText = node.nodeType === Node.TEXT_NODE;
    if (isText && !node.data.trim()) continue;
    const el = isText ? node.parentElement : node;
    if (isText) range.selectNodeContents(node);
    const rect = isText ? range.getBoundingClientRect() : node.getBoundingClientRect();
    if (!rect.width && !rect.height) continue;
    const box = node.parentElement.closest('td, th, table') || card;
    const outer = box.getBoundingClientRect();
    if (rect.right > outer.right + 0.5 || rect.left < outer.left - 0.5) {
      found.overflows.push(`${describe(el, isText ? node.data : el.textContent)} spans`
        + ` ${Math.round(rect.left)}..${Math.round(rect.right)} px, its ${box.tagName.toLowerCase()}`
        + ` ${Math.round(outer.left)}..${Math.round(outer.right)} px`);
    }
    if (!isText) continue;
    for (const word of node.data.matchAll(WORD)) {
      range.setStart(node, word.index);
      range.setEnd(node, word.index + word[0].length);
      const lines = [...range.getClientRects()].filter((r) => r.width > 0);
      if (lines.some((r) => r.top >= lines[0].bottom - 1)) {
        found.broken.push(`"${word[0].slice(0, 40)}" in ${describe(el, node.data)}`);
      }
    }
    const colour = rgb(win.getComputedStyle(el).color);
    const under = background(win, el);
    const [fg, bg] = [luminance(colour), luminance(under)];
    const ratio = (Math.max(fg, bg) + 0.05) / (Math.min(fg, bg) + 0.05);
    if (ratio < MIN_CONTRAST) {
      found.low_contrast.push(`${describe(el, node.data)}: ${ratio.toFixed(2)}:1`
        + ` (rgb ${colour.r} ${colour.g} ${colour.b} on rgb ${under.r} ${under.g} ${under.b})`);
    }
  }
  return found;
}
addEventListener('load', () => {
  const results = [...document.querySelectorAll('iframe')].map(
    (frame) => ({name: frame.name, ...probe(frame.contentWindow)}));
  document.getElementById('probe-result').textContent = JSON.stringify(results);
});
"""

# Pages the probe must flag, to prove it can see each defect it is meant to catch.
BROKEN_PAGES = {
    "too wide": "<table class='card'><tr><td><table width='900'><tr><td>x</td></tr></table>"
    "</td></tr></table>",
    "squeezed": "<table class='card' width='300'><tr><td style='overflow-wrap:anywhere'>research"
    "</td><td style='white-space:nowrap'>" + "m" * 40 + "</td></tr></table>",
    "faint": "<table class='card'><tr><td style='color:#bbbbbb'>hard to read</td></tr></table>",
}


def chromium(tmp_path: Path, width: int, height: int, scheme: str, *args: str) -> str:
    command = [
        "chromium", "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
        "--no-first-run", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--hide-scrollbars", f"--user-data-dir={tmp_path / 'profile'}",
        f"--blink-settings=preferredColorScheme={SCHEMES[scheme]}",
        f"--window-size={width},{height}", *args,
    ]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, timeout=180, check=True)
    return done.stdout


def measure(tmp_path: Path, pages: dict[str, str], scheme: str) -> dict[tuple[str, int], Any]:
    """Every page at both widths in one browser run: (name, width) -> the probe's findings."""
    frames = "".join(
        f'<iframe name="{html.escape(name)}" width="{width}" height="6000"'
        f' srcdoc="{html.escape(page)}"></iframe>'
        for name, page in pages.items()
        for width in (PHONE, DESKTOP)
    )
    probe = PROBE.replace("MIN_CONTRAST", str(MIN_CONTRAST))
    holder = tmp_path / f"measure-{scheme}.html"
    holder.write_text(
        f'<!doctype html><html><body>{frames}<pre id="probe-result"></pre>'
        f"<script>{probe}</script></body></html>"
    )
    dom = chromium(tmp_path, 1400, 900, scheme, "--dump-dom", holder.as_uri())
    match = re.search(r'<pre id="probe-result">(.*?)</pre>', dom, re.DOTALL)
    assert match and match.group(1), dom[-2000:]
    return {(found["name"], found["width"]): found for found in json.loads(html.unescape(match[1]))}


@pytest.fixture(scope="module")
def emails() -> dict[str, str]:
    hostile = emails_of(hostile_summary(), "hostile")
    demo = emails_of(demo_summary(), "demo")
    # Some clients (Gmail's app for other accounts) drop the <style> block: inline styles must do.
    unstyled = re.sub(r"<style>.*?</style>", "", hostile["hostile overall"], flags=re.DOTALL)
    return {
        **demo,
        "hostile overall without <style>": unstyled,
        **edge_emails(),
        "hostile overall": hostile["hostile overall"],
        **{name: hostile[name] for name in (team_email("hostile", t) for t in HOSTILE_NAMES)},
    }


@pytest.fixture(scope="module", params=list(SCHEMES))
def layout(request, tmp_path_factory, emails) -> dict[tuple[str, int], Any]:
    tmp_path = tmp_path_factory.mktemp(request.param)
    return measure(tmp_path, {**emails, **BROKEN_PAGES}, request.param)


def findings(layout: dict[tuple[str, int], Any], kind: str) -> list[str]:
    return [
        f"{name} at {width} px: {finding}"
        for (name, width), found in layout.items()
        if name not in BROKEN_PAGES
        for finding in found[kind]
    ]


def test_every_email_was_measured_at_both_widths(layout, emails):
    assert {name for name, _ in layout} == set(emails) | set(BROKEN_PAGES)
    assert {width for _, width in layout} == {PHONE, DESKTOP}
    assert len(emails) >= 10


def test_the_probe_sees_each_defect(layout):
    assert layout["too wide", PHONE]["overflows"]
    assert layout["too wide", PHONE]["scrollWidth"] > PHONE
    assert layout["squeezed", PHONE]["broken"]
    assert layout["faint", PHONE]["low_contrast"]


def test_no_email_is_wider_than_the_window(layout):
    too_wide = [
        f"{name} at {width} px: {found['scrollWidth']} px wide"
        for (name, width), found in layout.items()
        if name not in BROKEN_PAGES and found["scrollWidth"] > found["width"]
    ]
    assert not too_wide, "\n".join(too_wide)


def test_nothing_overflows_its_cell_or_table(layout):
    overflows = findings(layout, "overflows")
    assert not overflows, "\n".join(overflows)


def test_no_word_is_broken_across_lines(layout):
    broken = findings(layout, "broken")
    assert not broken, "\n".join(broken)


def test_every_text_is_readable(layout):
    faint = findings(layout, "low_contrast")
    assert not faint, "\n".join(faint)


def screenshot(tmp_path: Path, page: str, width: int, scheme: str, name: str) -> Image.Image:
    source = tmp_path / f"{name}.html"
    source.write_text(page)
    png = tmp_path / f"{name}.png"
    chromium(tmp_path, width, 4000, scheme, f"--screenshot={png}", source.as_uri())
    image = Image.open(png).convert("RGB")
    image.load()
    return image


def ink_share(image: Image.Image) -> float:
    """Share of pixels that differ from the page background (top-left corner)."""
    background = Image.new("RGB", image.size, image.getpixel((0, 0)))
    changed = ImageChops.difference(image, background).convert("L").point(lambda v: 255 * (v > 0))
    return changed.histogram()[255] / (image.width * image.height)


@pytest.mark.parametrize("scheme", list(SCHEMES))
@pytest.mark.parametrize(("width", "device"), [(PHONE, "phone"), (DESKTOP, "desktop")])
def test_screenshot_is_not_blank(tmp_path, emails, width, device, scheme):
    name = f"daily-email-{device}" + ("-dark" if scheme == "dark" else "")
    image = screenshot(tmp_path, emails["demo overall"], width, scheme, name)
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
