"""A real etcd for the cluster tests (`discovery_service: etcd://...`): Debian's etcd-server
(3.4), which tests/setup_env.sh installs. One member on free loopback ports, its data in
`workdir`.

    with EtcdServer(tmp_path / "etcd") as etcd:
        config["cache_node"]["networking"]["discovery_service"] = etcd.discovery_url
"""

from __future__ import annotations

import os
import platform
import shutil
import subprocess
from pathlib import Path

from .node import free_port, stop_process, tail, wait_http_ok

START_TIMEOUT_S = 30  # a single member elects itself in about a second


def etcd_binary() -> str:
    """$ETCD_BIN, `etcd` on PATH, or /usr/bin/etcd; a missing etcd fails (never a skip)."""
    found = os.environ.get("ETCD_BIN") or shutil.which("etcd")
    if not found and os.access("/usr/bin/etcd", os.X_OK):
        found = "/usr/bin/etcd"
    if not found:
        raise RuntimeError("no `etcd` binary: run tests/setup_env.sh (it installs Debian's "
                           "etcd-server) or set ETCD_BIN")
    return found


class EtcdServer:
    """One etcd process. `kill()` then `start()` again simulates a crash and restart on the
    same ports and data; `start(fresh=True)` brings it back with its data lost."""

    def __init__(self, workdir: Path, name: str = "etcd"):
        self.workdir = Path(workdir).resolve()
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.name = name
        self.client_port, self.peer_port = free_port(), free_port()
        self.log_path = self.workdir / f"{name}.log"
        self.proc: subprocess.Popen | None = None
        self._generation = 0

    @property
    def endpoint(self) -> str:
        """`host:port` of the client API."""
        return f"127.0.0.1:{self.client_port}"

    @property
    def discovery_url(self) -> str:
        return f"etcd://{self.endpoint}"

    @property
    def data_dir(self) -> Path:
        return self.workdir / f"{self.name}-data-{self._generation}"

    def start(self, fresh: bool = False) -> "EtcdServer":
        if self.proc is not None and self.proc.poll() is None:
            return self
        if fresh:
            self._generation += 1
        client = f"http://{self.endpoint}"
        peer = f"http://127.0.0.1:{self.peer_port}"
        env = dict(os.environ)
        if platform.machine() in ("aarch64", "arm64"):
            env["ETCD_UNSUPPORTED_ARCH"] = "arm64"  # etcd 3.4 refuses to start without it
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(
                [etcd_binary(), f"--name={self.name}", f"--data-dir={self.data_dir}",
                 f"--listen-client-urls={client}", f"--advertise-client-urls={client}",
                 f"--listen-peer-urls={peer}", f"--initial-advertise-peer-urls={peer}",
                 f"--initial-cluster={self.name}={peer}"],
                stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, cwd=self.workdir,
                env=env)
        try:
            # /health answers 200 only once the member has a leader.
            wait_http_ok(f"{client}/health", self.proc, START_TIMEOUT_S, "etcd", self.log_hint)
        except Exception:
            self.stop()
            raise
        return self

    def log_hint(self) -> str:
        return f"\n--- etcd log ({self.log_path}):\n{tail(self.log_path)}"

    def kill(self) -> None:
        """SIGKILL, as a crash would."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.proc is not None:
            stop_process(self.proc)

    def __enter__(self) -> "EtcdServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
