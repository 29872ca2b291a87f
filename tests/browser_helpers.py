"""Helpers for browser tests of the SolaraViz pages, offline (see docs/viz-offline.md).

    with clustersim_viz_server() as server, chromium_page() as (page, problems):
        page.goto(server.url)
        wait_for_step_counter(page, 0)
        problems.assert_clean()

* `solara_server` runs `solara run <app>` on a free 127.0.0.1 port, serving Solara's JavaScript
  from the npm tarballs that `make assets` unpacked into .cache/solara-assets, and never from
  the CDN (unreachable here and in CI).
* `chromium_page` drives Debian's /usr/bin/chromium (from `make browser`; never
  `playwright install`) and records page errors, failed requests and requests that left
  127.0.0.1. Without /usr/bin/chromium the test is skipped, except under CI=true, where it fails.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pytest

REPO = Path(__file__).resolve().parents[1]
ASSETS_DIR = REPO / ".cache" / "solara-assets"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# Solara's CDN proxy fetches a file missing from the cache dir from this URL. Pointing it at a
# closed local port makes a missing asset fail the same way online and offline (a 404 in the
# browser, recorded as a failed request) instead of being fetched quietly into .cache.
UNREACHABLE_CDN = "http://127.0.0.1:9/cdn-disabled-by-tests/"
_LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1"}


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in {"true", "1", "yes"}


def skip_or_fail(reason: str) -> None:
    """Skip the test, or fail it under CI=true, where a missing prerequisite is a broken setup."""
    if in_ci():
        pytest.fail(f"{reason} (CI=true: failing instead of skipping)", pytrace=False)
    pytest.skip(reason)


# --------------------------------------------------------------------------- solara server


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def solara_env(extra: Mapping[str, str] | None = None, assets_dir: Path = ASSETS_DIR) -> dict[str, str]:
    """Environment for a Solara server that never needs the internet."""
    env = dict(os.environ)
    # Solara turns its CDN proxy off inside VS Code (and Colab/Voila): then the page asks
    # cdn.jsdelivr.net directly and stays blank offline.
    for name in ("VSCODE_PID", "VSCODE_CWD", "SERVER_SOFTWARE"):
        env.pop(name, None)
    env.update(
        {
            "SOLARA_ASSETS_PROXY": "true",
            "SOLARA_ASSETS_PROXY_CACHE_DIR": str(assets_dir),
            "SOLARA_ASSETS_CDN": UNREACHABLE_CDN,
            "SOLARA_TELEMETRY_MIXPANEL_ENABLE": "false",
            "MPLBACKEND": "Agg",
            "PYTHONUNBUFFERED": "1",
            # pytest sets it for this process, but not for a server started from a plain
            # script; it also stops the dev-mode "solara_checked" iframe to solara.dev
            "PYTEST_CURRENT_TEST": env.get("PYTEST_CURRENT_TEST", "browser_helpers"),
        }
    )
    env.update(extra or {})
    return env


def check_assets(assets_dir: Path = ASSETS_DIR) -> None:
    probe = assets_dir / "@widgetti" / "solara-vuetify-app@10.1.1" / "dist"
    if not probe.is_dir():
        pytest.fail(
            f"Solara's JavaScript is not in {assets_dir}: run `make assets` "
            "(scripts/fetch-solara-assets) first; offline the page would stay blank.",
            pytrace=False,
        )


@dataclass
class SolaraServer:
    url: str
    port: int
    process: subprocess.Popen
    log_path: Path

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    def log_tail(self, lines: int = 40) -> str:
        return "\n".join(self.log().splitlines()[-lines:])


def _solara_command() -> list[str]:
    exe = Path(sys.executable).with_name("solara")
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "solara"]


def _clustersim_command() -> list[str]:
    exe = Path(sys.executable).with_name("clustersim")
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "sim"]


@contextlib.contextmanager
def solara_server(
    app: str | os.PathLike,
    *,
    env: Mapping[str, str] | None = None,
    production: bool = True,
    extra_args: list[str] | None = None,
    cwd: Path = REPO,
    log_path: Path | None = None,
    startup_timeout: float = 60.0,
    assets_dir: Path = ASSETS_DIR,
) -> Iterator[SolaraServer]:
    """Run `solara run <app>` (module name or file) until the block ends.

    production=True is what the tests want: minified JavaScript, no auto-restart, and no
    first-run "check" iframe to solara.dev. The server's output goes to log_path (default: a
    temporary file), which the error messages quote.
    """
    port = free_port()
    cmd = [
        *_solara_command(),
        "run",
        str(app),
        "--host=127.0.0.1",
        f"--port={port}",
        "--no-open",
        "--no-check-version",  # otherwise it asks PyPI, synchronously, at startup
        *(["--production"] if production else []),
        *(extra_args or []),
    ]
    with _server(cmd, port, env=env, cwd=cwd, log_path=log_path, startup_timeout=startup_timeout,
                 assets_dir=assets_dir) as server:
        yield server


@contextlib.contextmanager
def clustersim_viz_server(
    *args: str,
    env: Mapping[str, str] | None = None,
    cwd: Path = REPO,
    log_path: Path | None = None,
    startup_timeout: float = 90.0,
    assets_dir: Path = ASSETS_DIR,
) -> Iterator[SolaraServer]:
    """Run the user's command, `clustersim viz [args] --port <free>`, until the block ends.

    It binds to 127.0.0.1 by default (the test relies on that) and sets up the offline assets
    itself; the environment below only adds the closed CDN port, so a missing asset is a 404.
    """
    port = free_port()
    cmd = [*_clustersim_command(), "viz", *args, f"--port={port}"]
    with _server(cmd, port, env=env, cwd=cwd, log_path=log_path, startup_timeout=startup_timeout,
                 assets_dir=assets_dir) as server:
        yield server


@contextlib.contextmanager
def _server(cmd, port, *, env, cwd, log_path, startup_timeout, assets_dir) -> Iterator[SolaraServer]:
    check_assets(assets_dir)
    if log_path is None:
        fd, name = tempfile.mkstemp(prefix="solara-", suffix=".log")
        os.close(fd)
        log_path = Path(name)
    log_path = Path(log_path)
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            cmd,
            cwd=cwd,
            env=solara_env(env, assets_dir),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # own process group: killed as a whole below
        )
    server = SolaraServer(url=f"http://127.0.0.1:{port}/", port=port, process=proc, log_path=log_path)
    try:
        _wait_until_ready(server, startup_timeout)
        yield server
    finally:
        _kill_group(proc)


def _wait_until_ready(server: SolaraServer, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    last_error: object = None
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(
                f"solara exited with code {server.process.returncode} before answering on port "
                f"{server.port}:\n{server.log_tail()}"
            )
        try:
            with urllib.request.urlopen(server.url, timeout=5) as response:
                if response.status == 200:
                    return
                last_error = f"HTTP {response.status}"
        except (urllib.error.URLError, OSError) as e:
            last_error = e
        time.sleep(0.2)
    raise TimeoutError(f"solara did not answer on {server.url} within {timeout:.0f} s ({last_error}):\n{server.log_tail()}")


def _kill_group(proc: subprocess.Popen) -> None:
    if proc.poll() is not None:
        return
    for sig, grace in ((signal.SIGTERM, 10), (signal.SIGKILL, 5)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(timeout=grace)
            return
        except subprocess.TimeoutExpired:
            continue


# --------------------------------------------------------------------------- chromium


def _is_local(url: str) -> bool:
    parts = urlsplit(url)
    if parts.scheme in {"data", "blob", "about", "chrome", "chrome-extension", "devtools"}:
        return True
    return (parts.hostname or "") in _LOCAL_HOSTS


@dataclass
class PageProblems:
    """What went wrong in the page: filled by the listeners that chromium_page attaches."""

    page_errors: list[str] = field(default_factory=list)
    failed_requests: list[str] = field(default_factory=list)  # requestfailed and HTTP >= 400
    external_requests: list[str] = field(default_factory=list)  # anything not 127.0.0.1: blocked
    console_errors: list[str] = field(default_factory=list)  # informational

    def attach(self, page) -> None:
        page.on("pageerror", lambda exc: self.page_errors.append(str(exc)))
        page.on("requestfailed", self._on_request_failed)
        page.on("response", self._on_response)
        page.on("console", lambda msg: msg.type == "error" and self.console_errors.append(msg.text))

    def _on_request_failed(self, request) -> None:
        if not _is_local(request.url):
            return  # recorded in external_requests when it was blocked
        self.failed_requests.append(f"{request.method} {request.url}: {request.failure}")

    def _on_response(self, response) -> None:
        if response.status >= 400:
            self.failed_requests.append(f"{response.request.method} {response.url}: HTTP {response.status}")

    def summary(self) -> str:
        out = []
        for name in ("page_errors", "failed_requests", "external_requests", "console_errors"):
            items = getattr(self, name)
            if items:
                out.append(f"{name} ({len(items)}):\n" + "\n".join(f"  {i}" for i in items[:30]))
        return "\n".join(out) or "no problems"

    def assert_clean(self, *, allow: str | None = None) -> None:
        """Fail on page errors, failed requests and requests that left the machine.

        allow: a regex; matching entries are ignored (name what you allow, and why, at the call).
        """
        keep = (lambda s: not re.search(allow, s)) if allow else (lambda s: True)
        bad = {
            name: [i for i in getattr(self, name) if keep(i)]
            for name in ("page_errors", "failed_requests", "external_requests")
        }
        if any(bad.values()):
            pytest.fail("the page is not clean offline:\n" + self.summary(), pytrace=False)


def require_chromium() -> None:
    if not (os.path.isfile(CHROMIUM) and os.access(CHROMIUM, os.X_OK)):
        skip_or_fail(f"{CHROMIUM} is missing: run `make browser` (Debian package chromium)")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError as e:
        skip_or_fail(f"the playwright Python package is missing ({e}): run `make setup`")


@contextlib.contextmanager
def chromium_page(*, viewport: tuple[int, int] = (1400, 1000), block_external: bool = True, default_timeout_ms: float = 30_000):
    """Yield (page, problems): a fresh chromium page and the problems recorded in it.

    block_external aborts every request that would leave 127.0.0.1, so a page that still needs
    the internet fails here even on a machine that has it.
    """
    require_chromium()
    from playwright.sync_api import sync_playwright

    problems = PageProblems()
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            context = browser.new_context(viewport={"width": viewport[0], "height": viewport[1]})
            if block_external:

                def block(route):
                    problems.external_requests.append(f"{route.request.method} {route.request.url}")
                    route.abort("blockedbyclient")

                context.route(lambda url: not _is_local(url), block)
            page = context.new_page()
            page.set_default_timeout(default_timeout_ms)
            problems.attach(page)
            yield page, problems
        finally:
            browser.close()


# --------------------------------------------------------------------------- SolaraViz


def step_counter(page, n: int):
    """Locator of Mesa's step counter, "Time: <n>" (Mesa 3.5 shows model.time, a float: "Time: 1.0")."""
    return page.get_by_text(re.compile(rf"^\s*Time: {n}(\.0+)?\s*$"))


def wait_for_step_counter(page, n: int, timeout_ms: float = 60_000) -> None:
    step_counter(page, n).first.wait_for(state="visible", timeout=timeout_ms)


def click_button(page, label: str) -> None:
    """Click a SolaraViz control button: "Step", "Reset", or "▶" (play) / "❚❚" (pause)."""
    page.get_by_role("button", name=label, exact=True).click()


def settled_screenshot(locator, timeout_ms: float = 30_000, poll_ms: float = 100) -> bytes:
    """Screenshot of an element once it stops changing (two identical shots in a row).

    A redraw may replace the element itself (vega-embed swaps its canvas): the locator then
    re-resolves on the next try.
    """
    from playwright.sync_api import Error as PlaywrightError

    deadline = time.monotonic() + timeout_ms / 1000
    prev = None
    while True:
        try:
            now = locator.screenshot(animations="disabled", timeout=max(1_000, timeout_ms / 4))
        except PlaywrightError:  # detached or replaced mid-redraw
            now = None
        if now is not None and now == prev:
            return now
        prev = now
        if time.monotonic() > deadline:
            raise TimeoutError(f"{locator} did not settle within {timeout_ms / 1000:.0f} s")
        locator.page.wait_for_timeout(poll_ms)


def wait_for_redraw(locator, before: bytes, timeout_ms: float = 30_000) -> bytes:
    """Wait until an element has settled looking different from `before` (a settled_screenshot).

    The step counter changes first; plots redraw after it (an altair/vega chart re-renders in
    the browser a few hundred ms later), so wait for the pixels rather than sleeping.
    """
    deadline = time.monotonic() + timeout_ms / 1000
    while True:
        now = settled_screenshot(locator, timeout_ms=max(1_000, (deadline - time.monotonic()) * 1000))
        if now != before:
            return now
        if time.monotonic() > deadline:
            raise TimeoutError(f"{locator} did not change within {timeout_ms / 1000:.0f} s")
        locator.page.wait_for_timeout(100)
