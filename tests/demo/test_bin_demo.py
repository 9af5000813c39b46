"""``bin/demo`` end to end: ``python -m web.demo`` in a subprocess, used over HTTP, then Ctrl-C.

The subprocess gets a clean environment (no DATABASE_URL, REDIS_URL or CADENCE_* from the
test run), its own data folder and its own free ports.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
import requests

from web.demo.__main__ import url_host
from web.demo.people import planned_outcomes
from web.demo.radicale import free_port

ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT = 120.0  # the first start seeds (20-30 s on the 2-core machine)
STOP_TIMEOUT = 20.0


@dataclass(frozen=True)
class RunningDemo:
    url: str
    radicale_port: int
    log: Path
    process: subprocess.Popen[bytes]


def _clean_env() -> dict[str, str]:
    return {
        name: value
        for name, value in os.environ.items()
        if not name.startswith("CADENCE_") and name not in ("DATABASE_URL", "REDIS_URL")
    }


def _listening(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


@contextmanager
def running_demo(data: Path, host: str = "127.0.0.1") -> Iterator[RunningDemo]:
    """Start the demo on free ports, wait (bounded) until it answers, Ctrl-C it afterwards."""
    port, radicale_port = free_port(), free_port()
    log_path = data.parent / f"{data.name}-{port}.log"
    command = [sys.executable, "-m", "web.demo", "--port", str(port), "--data", str(data)]
    command += ["--radicale-port", str(radicale_port), "--host", host]
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            command, cwd=ROOT, env=_clean_env(), stdout=log, stderr=subprocess.STDOUT
        )
    demo = RunningDemo(f"http://{url_host(host)}:{port}", radicale_port, log_path, process)
    try:
        _wait_until_answering(demo)
        yield demo
    finally:
        stop(demo)


def _wait_until_answering(demo: RunningDemo) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if demo.process.poll() is not None:
            pytest.fail(f"the demo exited with {demo.process.returncode}:\n{demo.log.read_text()}")
        try:
            if requests.get(f"{demo.url}/healthz", timeout=2).status_code == 200:
                return
        except requests.ConnectionError:
            pass
        time.sleep(0.2)
    pytest.fail(f"the demo did not answer within {START_TIMEOUT}s:\n{demo.log.read_text()}")


def stop(demo: RunningDemo) -> None:
    """Ctrl-C, as in a terminal; killed only if it does not stop in time (then the test fails)."""
    if demo.process.poll() is None:
        demo.process.send_signal(signal.SIGINT)
    try:
        demo.process.wait(timeout=STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        demo.process.kill()
        demo.process.wait(timeout=STOP_TIMEOUT)
        pytest.fail(f"the demo ignored Ctrl-C:\n{demo.log.read_text()}")


def sign_in_as(demo: RunningDemo, name: str) -> requests.Session:
    """Click "Sign in as <name>" on the demo page, with the form's CSRF token."""
    browser = requests.Session()
    page = browser.get(f"{demo.url}/demo/", timeout=10)
    page.raise_for_status()
    match = re.search(
        r'action="(/demo/signin/[^"]+)">\s*<input type="hidden" name="csrf_token" '
        rf'value="([^"]+)">\s*<button type="submit" aria-label="Sign in as {name}"',
        page.text,
    )
    assert match, f"no sign-in button for {name}"
    landed = browser.post(
        demo.url + match.group(1), data={"csrf_token": match.group(2)}, timeout=10
    )
    landed.raise_for_status()
    assert name in landed.text
    return browser


def sync_now(browser: requests.Session, demo: RunningDemo) -> str:
    """Press "Sync calendars now" on the demo page; the page it lands on."""
    page = browser.get(f"{demo.url}/demo/", timeout=10).text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert token
    answer = browser.post(f"{demo.url}/demo/sync", data={"csrf_token": token.group(1)}, timeout=60)
    answer.raise_for_status()
    return answer.text


def _history_weeks() -> tuple[date, date]:
    """The first and last Monday of the twelve weeks before the current one."""
    today = datetime.now(UTC).date()
    this_monday = today - timedelta(days=today.weekday())
    return this_monday - timedelta(weeks=12), this_monday - timedelta(weeks=1)


def history_figures(browser: requests.Session, demo: RunningDemo) -> Counter[str]:
    """Outcomes of the twelve weeks before this one, from the sessions API."""
    answer = browser.get(f"{demo.url}/api/v1/sessions", timeout=30)
    answer.raise_for_status()
    first, last = _history_weeks()
    return Counter(
        row["outcome"]
        for row in answer.json()["data"]
        if first.isoformat() <= row["week_start"] <= last.isoformat()
    )


def reported_figures(browser: requests.Session, demo: RunningDemo) -> Counter[str] | None:
    """The history's outcomes as the reports overview shows them; None while the reports
    are not served yet."""
    first, last = _history_weeks()
    weeks = {"from": first.isoformat(), "to": last.isoformat()}
    page = browser.get(f"{demo.url}/reports/", params=weeks, timeout=30)
    if page.status_code == 404:
        return None
    page.raise_for_status()
    assert all(name in page.text for name in ("Patrick Owens", "Maria Lindqvist", "Matt Keller"))
    answer = browser.get(f"{demo.url}/api/v1/reports/overview", params=weeks, timeout=30)
    answer.raise_for_status()
    totals = answer.json()["totals"]
    return Counter(
        {
            "held": totals["held"],
            "undocumented": totals["undocumented"],
            "cancelled": totals["cancelled_by_manager"] + totals["cancelled_by_rep"],
            "declined": totals["declined"],
            "moved": totals["moved"],
            "excused": totals["excused"],
            "stopped": totals["stopped"],
        }
    )


def test_first_start_seeds_serves_and_ctrl_c_stops_radicale_too(tmp_path: Path):
    with running_demo(tmp_path / "instance") as demo:
        assert _listening(demo.radicale_port)
        admin = sign_in_as(demo, "Jordan Reyes")
        assert "Patrick Owens" in admin.get(f"{demo.url}/admin/people", timeout=10).text
        assert history_figures(admin, demo) == planned_outcomes()
        # Each person's account page shows their zone and the working hours in use.
        diego = sign_in_as(demo, "Diego Ramos").get(f"{demo.url}/account", timeout=10).text
        assert '<option value="America/Los_Angeles" selected>' in diego
        assert 'name="day-0-start" value="07:00"' in diego
        reported = reported_figures(admin, demo)
        if reported is not None:  # the reports overview, once it is served
            assert reported == planned_outcomes()
        log = demo.log.read_text()
        assert "Seeding the demo organisation" in log
        assert f"{demo.url}/demo/" in log and f"127.0.0.1:{demo.radicale_port}" in log

    assert demo.process.returncode == 0
    assert "Cadence and Radicale stopped." in demo.log.read_text()
    assert not _listening(demo.radicale_port)
    assert (tmp_path / "instance" / "radicale" / "collections").is_dir()  # kept for next time


def test_a_second_start_reuses_the_seeded_data_on_the_ipv6_loopback_too(tmp_path: Path):
    data = tmp_path / "instance"
    with running_demo(data) as first:
        figures = history_figures(sign_in_as(first, "Patrick Owens"), first)
    with running_demo(data, host="::1") as second:
        assert second.url.startswith("http://[::1]:")
        log = second.log.read_text()
        assert f"Cadence is running at {second.url}/" in log
        assert "Reusing the demo organisation" in log
        assert "Seeding" not in log
        # Radicale came back on another port: the saved connections follow it.
        assert second.radicale_port != first.radicale_port
        patrick = sign_in_as(second, "Patrick Owens")
        assert history_figures(patrick, second) == figures
        team = patrick.get(f"{second.url}/manager/team", timeout=10).text
        assert "Alice Nguyen" in team and "Diego Ramos" in team
        synced = sync_now(patrick, second)
        assert "Read 16 calendars" in synced and "Could not sync" not in synced
    assert not _listening(second.radicale_port)
