"""Whether report pages read on a desktop and on a phone, measured in a real browser (headless Chromium).

Each page is laid out at each width in one Chromium run: a harness page holds one frame per (page, width),
each frame as wide as that screen (its media queries see that width), and a script computes, in the page:

- ``page_scrolls``: the page itself is wider than the screen (a reader must scroll sideways);
- ``overflowing``: elements reaching past the screen's right edge that no scroll container holds (a table
  may scroll inside a ``.scroll`` box, which says so);
- ``clipped``: text cut off: an element hiding overflowing text, or a chart label reaching outside its chart;
- ``tiny_text``: chart text drawn smaller than ``MIN_CHART_TEXT_PX`` once the chart is scaled to the screen.

Chromium writes the result into the page, ``--dump-dom`` prints it. Debian's ``chromium`` package is enough;
no browser is downloaded and no driver library is needed.
"""

from __future__ import annotations

import json
import re
import subprocess
import tempfile
from dataclasses import dataclass, field
from html import escape
from pathlib import Path

from orchestration.reporting.screenshots import HEADLESS

WIDTHS = (1280, 390)  # a desktop, a phone
MIN_CHART_TEXT_PX = 7.5
RESULT = re.compile(r'<pre id="layout-result">(.*?)</pre>', re.DOTALL)

CHECK_SCRIPT = """
const MIN_TEXT = %(min_text)s;
function describe(el) {
  const text = (el.textContent || '').trim().replace(/\\s+/g, ' ').slice(0, 60);
  return el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') +
    (el.className && typeof el.className === 'string' ? '.' + el.className.split(' ').join('.') : '') +
    (text ? ' "' + text + '"' : '');
}
function check(frame) {
  const doc = frame.contentDocument, win = frame.contentWindow;
  const width = doc.documentElement.clientWidth;
  const found = {page: frame.dataset.page, width: Number(frame.dataset.width),
                 height: doc.documentElement.scrollHeight,
                 page_scrolls: doc.documentElement.scrollWidth > width + 1,
                 overflowing: [], clipped: [], tiny_text: []};
  for (const el of doc.body.querySelectorAll('*')) {
    if (el.closest('.scroll') || el.closest('svg') && el.tagName.toLowerCase() !== 'svg') continue;
    const box = el.getBoundingClientRect();
    if (box.width && box.right > width + 1) found.overflowing.push(describe(el));
    const style = win.getComputedStyle(el);
    const hides = ['hidden', 'clip'].includes(style.overflowX) || style.textOverflow === 'ellipsis';
    if (hides && el.scrollWidth > el.clientWidth + 1 && el.tagName.toLowerCase() !== 'svg')
      found.clipped.push(describe(el));
  }
  for (const text of doc.querySelectorAll('svg text')) {
    const svg = text.ownerSVGElement, outer = svg.getBoundingClientRect(), box = text.getBoundingClientRect();
    if (!box.width) continue;
    if (box.left < outer.left - 1 || box.right > outer.right + 1 || box.top < outer.top - 1 ||
        box.bottom > outer.bottom + 1) found.clipped.push('chart label ' + describe(text));
    const size = parseFloat(win.getComputedStyle(text).fontSize);
    const view = svg.viewBox && svg.viewBox.baseVal && svg.viewBox.baseVal.width;
    const scale = view ? outer.width / view : 1;
    if (size * scale < MIN_TEXT && !text.closest('.scroll'))
      found.tiny_text.push(describe(text) + ' at ' + (size * scale).toFixed(1) + ' px');
  }
  return found;
}
window.addEventListener('load', () => {
  const result = [...document.querySelectorAll('iframe')].map(check);
  const out = document.createElement('pre');
  out.id = 'layout-result';
  out.textContent = JSON.stringify(result);
  document.body.appendChild(out);
});
"""


@dataclass(frozen=True)
class Layout:
    page: str
    width: int
    height: int  # how far a reader scrolls down, px
    page_scrolls: bool
    overflowing: list[str] = field(default_factory=list)
    clipped: list[str] = field(default_factory=list)
    tiny_text: list[str] = field(default_factory=list)

    @property
    def reads_well(self) -> bool:
        return not (self.page_scrolls or self.overflowing or self.clipped or self.tiny_text)

    def problems(self) -> str:
        parts = [f"{self.page} at {self.width} px:"]
        if self.page_scrolls:
            parts.append("the page scrolls sideways;")
        for what, items in (
            ("overflow", self.overflowing),
            ("clipped", self.clipped),
            ("tiny", self.tiny_text),
        ):
            if items:
                parts.append(
                    f"{what}: {'; '.join(items[:5])}" + (f" (+{len(items) - 5})" if len(items) > 5 else "")
                )
        return " ".join(parts)


def harness(pages: list[Path], widths: tuple[int, ...] = WIDTHS) -> str:
    """One page holding every (page, width) as a frame of that width, and the script that measures them."""
    frames = []
    for page in pages:
        document = escape(page.read_text(encoding="utf-8"), quote=True)
        for width in widths:
            frames.append(
                f'<iframe data-page="{escape(page.name)}" data-width="{width}" '
                f'style="width:{width}px;height:900px;border:0;display:block" srcdoc="{document}"></iframe>'
            )
    script = CHECK_SCRIPT % {"min_text": MIN_CHART_TEXT_PX}
    return f"<!DOCTYPE html><html><body>{''.join(frames)}<script>{script}</script></body></html>"


def check_layout(
    chromium: str, pages: list[Path], widths: tuple[int, ...] = WIDTHS, timeout_s: float = 60
) -> list[Layout]:
    """Each page at each width, laid out and measured by ``chromium`` in one run."""
    with tempfile.TemporaryDirectory(prefix="layout-check-") as work:
        page = Path(work) / "harness.html"
        page.write_text(harness(pages, widths), encoding="utf-8")
        done = subprocess.run(
            [
                chromium,
                *HEADLESS,
                f"--user-data-dir={Path(work) / 'profile'}",
                "--hide-scrollbars",
                f"--window-size={max(widths) + 40},1000",
                "--dump-dom",
                page.as_uri(),
            ],
            capture_output=True,
            text=True,
            timeout=timeout_s,
            check=True,
        )
    found = RESULT.search(done.stdout)
    if found is None:
        raise RuntimeError(f"Chromium returned no layout result (stderr: {done.stderr[-500:]})")
    from html import unescape

    return [Layout(**item) for item in json.loads(unescape(found.group(1)))]
