#!/usr/bin/env python3
"""Opens a page in headless Chromium (a 1280×900 window, as browser-click.py does) and
prints where things lie once it is laid out, as JSON on stdout: for each selector given,
the first match's box in page pixels ({"top", "height", "text"}, null if none), and
"pictures": the height of every <svg> and <img> as drawn. Used by the progress page's
browser test to check what a person sees in the first screen. Standard library only.

    browser-layout.py URL SELECTOR… [--chromium PATH] [--timeout S]

Exit 0 with the JSON; 1 with the reason on stderr otherwise.
"""
import argparse
import importlib.util
import json
import os
import shutil
import sys
import tempfile
import time

# The DevTools plumbing is browser-click.py's.
_spec = importlib.util.spec_from_file_location("browser_click", os.path.join(os.path.dirname(__file__), "browser-click.py"))
browser_click = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(browser_click)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("url")
    parser.add_argument("selectors", nargs="+")
    parser.add_argument("--chromium", default=shutil.which("chromium") or "chromium")
    parser.add_argument("--timeout", type=float, default=30)
    args = parser.parse_args()
    deadline = time.monotonic() + args.timeout
    with tempfile.TemporaryDirectory() as profile:
        browser = browser_click.Browser(args.chromium, profile)
        try:
            session = browser_click.open_page(browser, args.url)
            selectors = json.dumps(args.selectors)
            expression = (
                f"(() => {{ if (document.readyState !== 'complete' || location.href === 'about:blank') return null;"
                f" const box = e => {{ if (!e) return null; const r = e.getBoundingClientRect();"
                f" return {{top: r.top + window.scrollY, height: r.height, text: e.textContent.trim()}}; }};"
                f" const out = {{}}; for (const s of {selectors}) out[s] = box(document.querySelector(s));"
                f" out.pictures = [...document.querySelectorAll('svg, img')].map(e => e.getBoundingClientRect().height);"
                f" out.viewport = window.innerHeight; return out; }})()"
            )
            found = browser_click.wait_for(browser, session, expression, deadline)
            if found is None:
                sys.exit(f"browser-layout: {args.url} did not finish loading")
            print(json.dumps(found))
        finally:
            browser.close()


if __name__ == "__main__":
    main()
