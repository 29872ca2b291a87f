"""Serve the browser page (sim/viz/app.py): `clustersim viz [SCENARIO]`, offline.

Solara's JavaScript normally comes from a CDN; here it comes from the npm tarballs that
`make assets` unpacked into .cache/solara-assets (docs/viz-offline.md), so the page works with
no internet. The server binds to 127.0.0.1 unless --host says otherwise.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from sim.cli import Terminated, UsageError, check_option
from sim.viz.model import DEFAULT_FIRMS, ENV_FIRMS, ENV_SCENARIO, REPO

ASSETS_DIR = REPO / ".cache" / "solara-assets"
# one file per npm package the page loads (docs/viz-offline.md lists why each is needed)
REQUIRED_ASSETS = (
    "@widgetti/solara-vuetify-app@10.1.1/dist",
    "requirejs@2.3.6/require.min.js",
    "font-awesome@4.5.0/css",
    "@widgetti/vue-grid-layout@2.3.13-alpha.2/dist",
    "katex@0.16.9/dist",
    "mermaid@10.8.0/dist",
)


def missing_assets(assets_dir: Path = ASSETS_DIR) -> list[str]:
    return [rel for rel in REQUIRED_ASSETS if not (assets_dir / rel).exists()]


def server_env(scenario: Path | None, firms: int | None, assets_dir: Path = ASSETS_DIR,
               base: dict | None = None) -> dict[str, str]:
    """Environment of `solara run`: assets from assets_dir and never from the CDN."""
    env = dict(os.environ if base is None else base)
    # Solara turns its asset proxy off inside VS Code (and Colab, Voila): the page would then
    # ask the CDN directly and stay blank offline.
    for name in ("VSCODE_PID", "VSCODE_CWD", "SERVER_SOFTWARE"):
        env.pop(name, None)
    env.update({
        "SOLARA_ASSETS_PROXY": "true",
        "SOLARA_ASSETS_PROXY_CACHE_DIR": str(assets_dir),
        "SOLARA_TELEMETRY_MIXPANEL_ENABLE": "false",
        "MPLBACKEND": "Agg",
        "PYTHONUNBUFFERED": "1",
    })
    if scenario is not None:
        env[ENV_SCENARIO] = str(scenario)
    if firms is not None:
        env[ENV_FIRMS] = str(firms)
    return env


def solara_command(host: str, port: int, open_browser: bool) -> list[str]:
    exe = Path(sys.executable).with_name("solara")
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "solara"]
    return [*cmd, "run", "sim.viz.app", f"--host={host}", f"--port={port}",
            # --production: no auto-reload and no first-run iframe to solara.dev;
            # --no-check-version: no question to PyPI at startup
            "--production", "--no-check-version", *([] if open_browser else ["--no-open"])]


def exposure_warning(host: str) -> str | None:
    """The warning for a bind address other machines can reach (None for loopback)."""
    import ipaddress

    if host == "localhost":
        return None
    try:
        if ipaddress.ip_address(host).is_loopback:
            return None
    except ValueError:  # a host name: it may resolve to anything
        pass
    everywhere = host in ("0.0.0.0", "::", "")
    return (f"warning: --host {host}: the page is served to "
            + ("every network interface" if everywhere else "the network at that address")
            + " with no authentication: anyone who can reach this machine can use it and run "
            "the model on it; use --host 127.0.0.1 (the default) unless that is what you want")


def cmd_viz(args) -> int:
    warning = exposure_warning(args.host)
    if warning:
        print(warning, file=sys.stderr, flush=True)
    scenario = None
    if args.scenario:
        from sim.scenario import load_scenario

        scenario = Path(args.scenario).resolve()
        load_scenario(scenario)  # a bad file fails here, with file, line and key (exit 2)
    check_option("--firms", args.firms, "run.firms")
    missing = missing_assets(ASSETS_DIR)
    if missing:
        raise UsageError(
            "Solara's JavaScript is not in .cache/solara-assets (missing: "
            + ", ".join(missing) + "). Run `make assets` once (it needs the npm registry); "
            "without it the page stays blank offline.")
    cmd = solara_command(args.host, args.port, args.open)
    env = server_env(scenario, args.firms, ASSETS_DIR)
    print(f"clustersim viz: http://{args.host}:{args.port}/  (Ctrl-C to stop)", flush=True)
    try:
        return subprocess.call(cmd, cwd=REPO, env=env)
    except Terminated:
        raise  # SIGTERM: exit 143 like every command (sim.cli.main)
    except KeyboardInterrupt:  # Ctrl-C is how the server is meant to be stopped
        return 0


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "viz", help="serve the browser page: watch and steer the clusters (Mesa SolaraViz)",
        description=__doc__.splitlines()[0])
    p.add_argument("scenario", nargs="?",
                   help="scenario YAML the page starts with (default: scenarios/baseline.yaml); "
                        "the page's picker lists every file in scenarios/")
    p.add_argument("--host", default="127.0.0.1",
                   help="address to bind (default 127.0.0.1: this machine only)")
    p.add_argument("--port", type=int, default=8765, help="port (default 8765)")
    p.add_argument("--firms", type=int, default=None,
                   help=f"firm agents at the start (default {DEFAULT_FIRMS}; also a slider)")
    p.add_argument("--open", action="store_true", help="open a browser tab")
    p.set_defaults(func=cmd_viz)
