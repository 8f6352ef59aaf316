"""`dashboard`: the Streamlit app, served on this machine's loopback by default."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import click

from channelsim.cli.common import UserError, friendly, workers_option


@click.command()
@click.argument("scenarios", nargs=-1, type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--port",
    type=click.IntRange(1, 65535),
    default=8501,
    help="Port to listen on (default 8501).",
)
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="Address to listen on; 0.0.0.0 shares the dashboard with the whole network.",
)
@workers_option(default=2, auto="one per usable core")
@click.option("--no-browser", is_flag=True, help="Do not open a browser window.")
@friendly
def dashboard(
    scenarios: tuple[Path, ...], port: int, host: str, workers: int | str | None, no_browser: bool
) -> None:
    """Open the dashboard: pick a scenario, move its levers, run, compare with intervals.

    SCENARIO files are offered first; the bundled scenarios and uploads follow. The
    --workers processes are shared by every browser session.

    \b
    Example:
      channelsim dashboard scenarios/parallel.yaml scenarios/direct.yaml --port 8502
    """
    from channelsim.api import load_scenario

    for path in scenarios:
        load_scenario(path)  # a bad file stops here with its one-line reason
    app = Path(__file__).resolve().parents[1] / "dashboard" / "app.py"
    env = {
        **os.environ,
        "CHANNELSIM_DASHBOARD_SCENARIOS": os.pathsep.join(str(p.resolve()) for p in scenarios),
        "CHANNELSIM_DASHBOARD_WORKERS": str(workers or 2),
    }
    command = [
        sys.executable, "-m", "streamlit", "run", str(app),
        "--server.address", host,
        "--server.port", str(port),
        "--server.headless", "true" if no_browser else "false",
        "--server.maxUploadSize", "1",
        "--browser.gatherUsageStats", "false",
        "--global.developmentMode", "false",
        "--client.toolbarMode", "minimal",
    ]  # fmt: skip
    click.echo(f"channelsim dashboard on http://{host}:{port} (Ctrl+C stops it)")
    try:
        code = subprocess.call(command, env=env)
    except KeyboardInterrupt:
        code = 0
    if code not in (0, -2, 130):
        raise UserError(f"streamlit stopped with exit code {code}")
