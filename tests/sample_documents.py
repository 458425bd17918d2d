"""Helpers shared by the report, history and compare tests: a real result document and a parser."""

from __future__ import annotations

import copy
import json
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

DATA = Path(__file__).resolve().parent / "data"
DEFAULT_QUICK = DATA / "bench_default_quick.json"
"""A real `gilwise bench --quick --json` run (default workloads and models) on the 2-core dev VM."""


def default_document() -> dict[str, Any]:
    return copy.deepcopy(json.loads(DEFAULT_QUICK.read_text()))


class PageParser(HTMLParser):
    """Collects what the tests check: link targets, table rows, SVG titles, embedded JSON."""

    def __init__(self) -> None:
        super().__init__()
        self.links: list[tuple[str, str, str]] = []
        self.rows: list[dict[str, str]] = []
        self.svg_titles: list[str] = []
        self.tags: list[str] = []
        self.scripts: list[dict[str, str]] = []
        self._in_svg = 0
        self._want_title = False
        self._in_svg_title = False
        self._in_json = False
        self.json_text = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: v or "" for k, v in attrs}
        self.tags.append(tag)
        for name in ("src", "href", "xlink:href", "action", "poster", "data"):
            if name in values:
                self.links.append((tag, name, values[name]))
        if tag == "tr" and "data-row" in values:
            self.rows.append(values)
        if tag == "svg":
            self._in_svg += 1
            self._want_title = True
        elif tag == "title" and self._want_title:
            self._want_title = False
            self._in_svg_title = True
            self.svg_titles.append("")
        if tag == "script":
            self.scripts.append(values)
            self._in_json = values.get("type") == "application/json"

    def handle_endtag(self, tag: str) -> None:
        if tag == "svg":
            self._in_svg -= 1
        if tag == "title":
            self._in_svg_title = False
        if tag == "script":
            self._in_json = False

    def handle_data(self, data: str) -> None:
        if self._in_svg_title:
            self.svg_titles[-1] += data
        if self._in_json:
            self.json_text += data


def parse_page(text: str) -> PageParser:
    parser = PageParser()
    parser.feed(text)
    parser.close()
    return parser
