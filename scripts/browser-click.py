#!/usr/bin/env python3
"""Opens a page in headless Chromium, clicks an element with the mouse (a real input
event at its place on the page, as a person's click), waits until another element's text
contains what is expected, and prints that text. Used by the feed page's browser test;
standard library only: the DevTools protocol over --remote-debugging-pipe (NUL-separated
JSON on file descriptors 3 and 4), no websocket client, no driver download.

    browser-click.py URL CLICK_SELECTOR WAIT_SELECTOR EXPECTED [--chromium PATH] [--timeout S]

Exit 0 with the text on stdout when it appeared; 1 with the reason on stderr otherwise.
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time


class Browser:
    def __init__(self, chromium, profile):
        # Our ends: we write commands to `to_browser`, read replies from `from_browser`.
        to_read, to_write = os.pipe()
        from_read, from_write = os.pipe()

        def child_fds():
            # Through fresh numbers first, so that neither end lands on the other's target;
            # dup2 makes 3 and 4 inheritable (os.pipe's are not, PEP 446).
            read_end, write_end = os.dup(to_read), os.dup(from_write)
            os.dup2(read_end, 3)
            os.dup2(write_end, 4)

        self.proc = subprocess.Popen(
            [chromium, "--headless=new", "--remote-debugging-pipe", "--no-first-run", "--no-default-browser-check",
             "--disable-gpu", "--no-sandbox", "--disable-extensions", "--mute-audio", f"--user-data-dir={profile}",
             "--window-size=1280,900", "about:blank"],
            # The pipes are moved to 3 and 4 in the child, so nothing may be closed after.
            close_fds=False, preexec_fn=child_fds,
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        os.close(to_read)
        os.close(from_write)
        self.out = os.fdopen(to_write, "wb")
        self.inp = os.fdopen(from_read, "rb")
        self.next_id = 0
        self.buffer = b""

    def send(self, method, params=None, session=None):
        self.next_id += 1
        message = {"id": self.next_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        self.out.write(json.dumps(message).encode() + b"\0")
        self.out.flush()
        while True:
            reply = self.read()
            if reply.get("id") == self.next_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})

    def read(self):
        while b"\0" not in self.buffer:
            chunk = os.read(self.inp.fileno(), 65536)
            if not chunk:
                raise RuntimeError("chromium closed the pipe")
            self.buffer += chunk
        message, self.buffer = self.buffer.split(b"\0", 1)
        return json.loads(message)

    def close(self):
        try:
            self.send("Browser.close")
        except Exception:
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def open_page(browser, url):
    """A new tab navigated to `url`; its DevTools session."""
    target = browser.send("Target.createTarget", {"url": "about:blank"})["targetId"]
    session = browser.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
    browser.send("Page.enable", {}, session)
    browser.send("Page.navigate", {"url": url}, session)
    return session


def wait_for(browser, session, expression, deadline):
    """The value of `expression` once it is neither null nor false, polled until `deadline`
    (None if it never is)."""
    while time.monotonic() < deadline:
        value = evaluate(browser, session, expression)
        if value:
            return value
        time.sleep(0.1)
    return None


def evaluate(browser, session, expression):
    result = browser.send("Runtime.evaluate", {"expression": expression, "returnByValue": True}, session)
    return result.get("result", {}).get("value")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("url")
    parser.add_argument("click")
    parser.add_argument("wait")
    parser.add_argument("expected")
    parser.add_argument("--chromium", default=shutil.which("chromium") or "chromium")
    parser.add_argument("--timeout", type=float, default=30)
    args = parser.parse_args()
    deadline = time.monotonic() + args.timeout
    with tempfile.TemporaryDirectory() as profile:
        browser = Browser(args.chromium, profile)
        try:
            session = open_page(browser, args.url)
            click = json.dumps(args.click)
            # The element's centre in the viewport, once the page has loaded (its scripts
            # have run: a button found while the page is still parsing has no handler yet)
            # and laid it out.
            box = wait_for(browser, session,
                           f"(() => {{ if (document.readyState !== 'complete') return null;"
                           f" const e = document.querySelector({click}); if (!e) return null;"
                           " e.scrollIntoView({block: 'center'});"
                           " const r = e.getBoundingClientRect(); return [r.x + r.width / 2, r.y + r.height / 2]; })()",
                           deadline)
            if box is None:
                sys.exit(f"browser-click: no element {args.click} on {args.url}")
            x, y = box
            for kind in ("mousePressed", "mouseReleased"):
                browser.send("Input.dispatchMouseEvent",
                             {"type": kind, "x": x, "y": y, "button": "left", "clickCount": 1}, session)
            wait = json.dumps(args.wait)
            text = ""
            while time.monotonic() < deadline:
                text = evaluate(browser, session, f"document.querySelector({wait})?.textContent ?? ''") or ""
                if args.expected in text:
                    print(text)
                    return
                time.sleep(0.1)
            sys.exit(f"browser-click: {args.wait} says {text!r}, not {args.expected!r}, after the click")
        finally:
            browser.close()


if __name__ == "__main__":
    main()
