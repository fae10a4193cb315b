"""Start ``python app.py`` on a free port with a temporary store, as a person would run it.

Used by the UI tests (browser and concurrency). The app runs in its own process with its own
``POLYLEX_*`` environment; ``stop()`` ends that process (and only it).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class AppServer:
    url: str
    process: subprocess.Popen
    log: Path

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=15)

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


def start_app(tmp: Path, *, env: dict[str, str] | None = None, timeout: float = 180.0) -> AppServer:
    """Run app.py with a store in ``tmp/store`` and no trained models; wait until the page answers."""
    port = free_port()
    log = tmp / "app.log"
    environment = {
        **{k: v for k, v in os.environ.items() if k != "POLYLEX_AUTH"},  # no login unless asked for
        "POLYLEX_STORE": str(tmp / "store"),
        "POLYLEX_RUNS": str(tmp / "runs"),
        "GRADIO_SERVER_PORT": str(port),
        "GRADIO_SERVER_NAME": "127.0.0.1",
        "GRADIO_ANALYTICS_ENABLED": "False",
        "PYTHONUNBUFFERED": "1",
        **(env or {}),
    }
    handle = log.open("wb")
    process = subprocess.Popen([sys.executable, "app.py"], cwd=REPO, env=environment, stdout=handle,
                               stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/"
    server = AppServer(url, process, log)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"app.py exited with {process.returncode}:\n{server.log_tail()}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return server
        except OSError:
            time.sleep(0.5)
    server.stop()
    raise RuntimeError(f"app.py did not answer on {url} within {timeout:.0f} s:\n{server.log_tail()}")
