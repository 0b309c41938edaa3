"""A moto S3 server as a real process on a free loopback port (the node talks plain S3 HTTP)."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import boto3

from .node import free_port, stop_process, tail, wait_http_ok

ACCESS_KEY = "testing"
SECRET_KEY = "testing"
REGION = "us-east-1"


@dataclass
class S3Server:
    endpoint: str
    proc: subprocess.Popen
    log: Path

    def client(self):
        return boto3.client("s3", endpoint_url=self.endpoint, aws_access_key_id=ACCESS_KEY,
                            aws_secret_access_key=SECRET_KEY, region_name=REGION)

    def create_bucket(self, name: str) -> None:
        self.client().create_bucket(Bucket=name)

    def stop(self) -> None:
        stop_process(self.proc)


def start_moto(workdir: Path) -> S3Server:
    workdir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    log = workdir / "moto.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1",
                                 "-p", str(port)],
                                stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    endpoint = f"http://127.0.0.1:{port}"
    try:
        wait_http_ok(f"{endpoint}/moto-api/", proc, 60, "moto S3 server",
                     lambda: f"\n--- {log}:\n{tail(log)}")
    except Exception:
        proc.kill()
        raise
    return S3Server(endpoint, proc, log)
