"""``python -m web.demo`` refuses to start where it must not, before anything is started."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from web.demo.__main__ import demo_settings, main


def test_bin_demo_refuses_a_public_host_before_starting_anything(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    assert main(["--host", "0.0.0.0", "--data", str(tmp_path), "--port", "5999"]) == 2
    assert "loopback" in capsys.readouterr().err
    assert not (tmp_path / "radicale").exists()  # Radicale never started, nothing seeded


def test_bin_demo_says_which_port_is_taken(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert main(["--data", str(tmp_path), "--port", str(port)]) == 2
    assert f"port {port} is taken" in capsys.readouterr().err
    assert not (tmp_path / "radicale").exists()


@pytest.mark.parametrize("host", ["::", "[::]", "192.168.1.20", "example.com"])
def test_bin_demo_refuses_any_non_loopback_host_with_the_same_message(
    host: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    assert main(["--host", host, "--data", str(tmp_path), "--port", "5999"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("bin/demo: the demo sign-in listens on loopback only")
    assert "Traceback" not in err
    assert not (tmp_path / "radicale").exists()


@pytest.mark.parametrize("host", ["::1", "[::1]"])
def test_an_ipv6_loopback_host_is_bracketed_in_the_demos_urls(host: str, tmp_path: Path):
    settings = demo_settings(tmp_path, host, 5999, {})
    assert settings.base_url == "http://[::1]:5999"
