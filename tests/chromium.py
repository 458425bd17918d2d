"""Headless Chromium for the browser tests: Debian's package driven by Playwright (never a
browser download). In CI (.ci/run installs chromium) a missing browser is a failure, never a
silent skip."""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, sync_playwright

CHROMIUM = shutil.which("chromium")

needs_chromium = pytest.mark.skipif(
    CHROMIUM is None and not os.environ.get("CI"),
    reason="Debian's chromium is not installed: apt-get install -y chromium",
)


@contextlib.contextmanager
def chromium_page(width: int = 1280, height: int = 900) -> Iterator[Page]:
    assert CHROMIUM is not None, "CI must install Debian's chromium: apt-get install -y chromium"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        try:
            yield browser.new_page(viewport={"width": width, "height": height})
        finally:
            browser.close()
