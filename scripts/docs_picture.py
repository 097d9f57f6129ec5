"""Make docs/report-classification.png: the top of the gallery's English dog classification page.

Run: .venv/bin/python scripts/docs_picture.py [--height 1600]. It only reads
reports/gallery/dog-classification-en.html (made by `python launch.py gallery`); it does not
regenerate the gallery. Needs Playwright for Python and Debian's Chromium (/usr/bin/chromium).
"""
from __future__ import annotations

import argparse
from pathlib import Path

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parent.parent
PAGE = ROOT / "reports" / "gallery" / "dog-classification-en.html"
PICTURE = ROOT / "docs" / "report-classification.png"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--width", type=int, default=1000)
    parser.add_argument("--height", type=int, default=1600, help="the crop: this many CSS pixels from the top")
    parser.add_argument("--output", type=Path, default=PICTURE)
    args = parser.parse_args()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path="/usr/bin/chromium",
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        try:
            page = browser.new_page(viewport={"width": args.width, "height": args.height})
            page.goto(PAGE.as_uri())
            page.screenshot(path=str(args.output), full_page=False)
        finally:
            browser.close()
    print(args.output.relative_to(ROOT) if args.output.is_relative_to(ROOT) else args.output)


if __name__ == "__main__":
    main()
