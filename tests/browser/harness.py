"""The real-browser harness: starts `borderless demo` in a fresh directory on a free port, drives Debian's
Chromium through chromedriver (WebDriver, via selenium), and keeps screenshots.

Used by console.py (and the storefront suite). Needs: chromium, chromium-driver, python3 with selenium.
"""
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

from selenium import webdriver
from selenium.webdriver.common.by import By

PHONE = (390, 844)
LAPTOP = (1280, 900)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Demo:
    """A demo shop of its own: `borderless demo` in a temporary directory, stopped at the end."""

    def __init__(self, binary):
        self.dir = tempfile.mkdtemp(prefix="borderless-browser-")
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = open(os.path.join(self.dir, "demo.log"), "w")
        self.proc = subprocess.Popen(
            [binary, "demo", "--listen", f"127.0.0.1:{self.port}", "--no-mqtt", "--data-dir", os.path.join(self.dir, "data")],
            stdout=self.log, stderr=subprocess.STDOUT, cwd=self.dir,
            env={k: v for k, v in os.environ.items() if not k.startswith("BORDERLESS_")} | {"NO_COLOR": "1"},
        )
        deadline = time.time() + 180
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise SystemExit(f"the demo exited:\n{self.tail()}")
            try:
                # Ready when the catalog is seeded and the console answers.
                urllib.request.urlopen(self.url + "/store/products/wireless-noise-cancelling-earbuds-lite", timeout=2)
                urllib.request.urlopen(self.url + "/console/login", timeout=2)
                break
            except (urllib.error.URLError, ConnectionError, OSError):
                time.sleep(0.5)
        else:
            raise SystemExit(f"the demo did not come up:\n{self.tail()}")
        self.admin_key = open(os.path.join(self.dir, "data", "admin-key")).read().strip()

    def tail(self):
        self.log.flush()
        return "".join(open(os.path.join(self.dir, "demo.log")).readlines()[-40:])

    def api(self, method, path, body=None, token=None, headers=None, expect=None):
        """Calls the REST API; returns (status, json)."""
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.url + path, data=data, method=method)
        req.add_header("Content-Type", "application/json")
        if token:
            req.add_header("Authorization", f"Bearer {token}")
        for k, v in (headers or {}).items():
            req.add_header(k, v)
        try:
            with urllib.request.urlopen(req, timeout=30) as r:
                status, text = r.status, r.read().decode()
        except urllib.error.HTTPError as e:
            status, text = e.code, e.read().decode()
        out = json.loads(text) if text.strip().startswith(("{", "[")) else text
        if expect is not None and status != expect:
            raise AssertionError(f"{method} {path}: expected {expect}, got {status}: {text[:500]}")
        return status, out

    def admin(self, method, path, body=None, expect=None, headers=None):
        return self.api(method, path, body, token=self.admin_key, headers=headers, expect=expect)

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        shutil.rmtree(self.dir, ignore_errors=True)


def browser(size=LAPTOP, lang="ko", javascript=True):
    """Headless Chromium at `size`, preferring `lang`; `javascript=False` is a browser with scripts off."""
    o = webdriver.ChromeOptions()
    o.binary_location = shutil.which("chromium") or "/usr/bin/chromium"
    for a in ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage", f"--window-size={size[0]},{size[1]}",
              f"--lang={lang}", "--disable-gpu", "--force-device-scale-factor=1"]:
        o.add_argument(a)
    prefs = {"intl.accept_languages": lang}
    if not javascript:
        prefs["profile.managed_default_content_settings.javascript"] = 2
    o.add_experimental_option("prefs", prefs)
    o.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    service = webdriver.ChromeService(shutil.which("chromedriver") or "/usr/bin/chromedriver")
    d = webdriver.Chrome(service=service, options=o)
    d.set_page_load_timeout(30)
    return d


def problems_in_console(d):
    """Severe browser messages (script errors, CSP violations, failed loads)."""
    return [l["message"] for l in d.get_log("browser") if l["level"] == "SEVERE"]


A11Y_JS = """
const out = [];
document.querySelectorAll('input:not([type=hidden]), select, textarea').forEach(el => {
  const named = (el.labels && el.labels.length) || el.getAttribute('aria-label') || el.getAttribute('aria-labelledby');
  if (!named && el.offsetParent !== null) out.push('unlabelled ' + el.tagName.toLowerCase() + ' ' + (el.name || el.id));
});
document.querySelectorAll('img').forEach(img => { if (!img.hasAttribute('alt')) out.push('img without alt ' + img.src.slice(0, 60)); });
if (document.querySelectorAll('h1').length !== 1) out.push(document.querySelectorAll('h1').length + ' h1 elements');
if (!document.documentElement.lang) out.push('no lang on <html>');
const wide = document.documentElement.scrollWidth - window.innerWidth;
if (wide > 2) out.push('the page scrolls sideways by ' + wide + 'px');
return out;
"""


def check_page(d):
    """Accessibility basics every page meets; returns the problems found."""
    return d.execute_script(A11Y_JS)


class Shots:
    """Screenshots into a directory that outlives the run."""

    def __init__(self, directory):
        self.dir = directory
        os.makedirs(directory, exist_ok=True)
        self.count = 0

    def take(self, d, name):
        path = os.path.join(self.dir, name + ".png")
        d.save_screenshot(path)
        self.count += 1
        return path


def wait_for(d, check, timeout=10, what="the page"):
    deadline = time.time() + timeout
    last = None
    while time.time() < deadline:
        try:
            r = check()
            if r:
                return r
        except Exception as e:  # noqa: BLE001 - the page may be mid-swap
            last = e
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what} ({last}); at {d.current_url}")


def click(d, by, selector, timeout=10):
    """Clicks the element once it is there and stable. Boosted pages (htmx) swap their content after the URL
    changes, so an element found a moment ago may be gone (stale) by the click: find it again and retry.
    A click that raised did not happen, so retrying never clicks twice."""
    def attempt():
        d.find_element(by, selector).click()
        return True
    return wait_for(d, attempt, timeout=timeout, what=f"{selector} to click")


def text(d):
    return d.find_element(By.TAG_NAME, "body").text


def flash(d, expect):
    """Waits for a flash message holding `expect`. The page before a click may still show the previous
    action's message for a moment, so waiting for any message would race the navigation."""
    seen = []

    def check():
        t = d.find_element(By.CSS_SELECTOR, ".flash").text
        seen.append(t)
        return expect in t

    try:
        wait_for(d, check, what=f"a message with {expect!r}")
    except AssertionError as e:
        raise AssertionError(f"{e}; messages seen: {sorted(set(seen))}; page: {text(d)[:400]}") from None
    return True


class Suite:
    """Runs named steps, reports each, and fails the process at the end if any failed."""

    def __init__(self):
        self.failed = []
        self.passed = 0

    def step(self, name, fn, *args):
        t = time.time()
        try:
            fn(*args)
            self.passed += 1
            print(f"ok   {name} ({time.time() - t:.1f}s)", flush=True)
        except Exception as e:  # noqa: BLE001
            self.failed.append(name)
            print(f"FAIL {name}: {type(e).__name__}: {e}", flush=True)

    def finish(self):
        print(f"{self.passed} passed, {len(self.failed)} failed", flush=True)
        if self.failed:
            print("failed: " + ", ".join(self.failed), flush=True)
            sys.exit(1)
