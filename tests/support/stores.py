"""Object-store emulators as real processes on free loopback ports, and warehouses in them:
fake-gcs-server (GCS), azurite (Azure Blob / ADLS Gen2), and a moto S3 server that enforces
SigV4 against IAM users. tests/support/emulators.sh installs the first two.

Each warehouse keeps its catalog in a local SQLite file (pyiceberg's SQL catalog) and its
metadata and data files in the store; `Warehouse.object_store` is what the node needs to read
them.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import boto3
from pyiceberg.catalog.sql import SqlCatalog

from . import tables as T
from .node import free_port, http_get, stop_process, tail, wait_http_ok

EMULATORS_DIR = Path(os.environ.get("ARROW_CACHE_EMULATORS_DIR",
                                    Path.home() / ".cache" / "arrow-cache" / "emulators"))
FAKE_GCS_VERSION = "v1.47.6"  # keep in step with emulators.sh
AZURITE_VERSION = "3.35.0"


def _installed(path: Path) -> str:
    """An emulator binary emulators.sh installed; a missing one fails the tests that need it."""
    if not os.access(path, os.X_OK):
        raise RuntimeError(f"{path} is missing: run tests/support/emulators.sh "
                           "(tests/setup_env.sh does) to install the object-store emulators")
    return str(path)


def _start(cmd: list[str], log: Path, health_url: str, what: str,
           any_status: bool = False) -> subprocess.Popen:
    with open(log, "wb") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL)
    hint = lambda: f"\n--- {log}:\n{tail(log)}"  # noqa: E731
    try:
        if any_status:
            _wait_answering(health_url, proc, 60, what, hint)
        else:
            wait_http_ok(health_url, proc, 60, what, hint)
    except Exception:
        stop_process(proc)
        raise
    return proc


def _wait_answering(url: str, proc: subprocess.Popen, timeout: float, what: str, hint) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited with code {proc.returncode}{hint()}")
        try:
            http_get(url, timeout=2)
            return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"{what} not answering at {url} after {timeout:.0f}s{hint()}")


# --------------------------------------------------------------------------------------------
# GCS: fake-gcs-server


@dataclass
class GcsServer:
    endpoint: str  # http://127.0.0.1:port, what object_store calls google_base_url
    proc: subprocess.Popen
    log: Path

    def create_bucket(self, name: str) -> None:
        req = urllib.request.Request(f"{self.endpoint}/storage/v1/b", method="POST",
                                     data=json.dumps({"name": name}).encode(),
                                     headers={"Content-Type": "application/json"})
        urllib.request.urlopen(req, timeout=10).read()

    def stop(self) -> None:
        stop_process(self.proc)


def start_fake_gcs(workdir: Path) -> GcsServer:
    workdir.mkdir(parents=True, exist_ok=True)
    binary = _installed(EMULATORS_DIR / f"fake-gcs-server-{FAKE_GCS_VERSION}" / "bin"
                        / "fake-gcs-server")
    port = free_port()
    endpoint = f"http://127.0.0.1:{port}"
    # -public-host / -external-url: the host the XML API (object_store's reads) is served on.
    proc = _start([binary, "-scheme", "http", "-host", "127.0.0.1", "-port", str(port),
                   "-backend", "memory", "-public-host", f"127.0.0.1:{port}",
                   "-external-url", endpoint, "-log-level", "warn"],
                  workdir / "fake-gcs.log", f"{endpoint}/storage/v1/b", "fake-gcs-server")
    return GcsServer(endpoint, proc, workdir / "fake-gcs.log")


def gcs_warehouse(root: Path, server: GcsServer, bucket: str) -> T.Warehouse:
    """Catalog in SQLite, files in gs://bucket/wh, written through pyarrow's GCS file system."""
    root = root.resolve()
    root.mkdir(parents=True, exist_ok=True)
    uri = f"sqlite:///{root}/catalog.db"
    wh = f"gs://{bucket}/wh"
    # fake-gcs-server accepts any token; pyarrow wants one with an expiry to skip Google's
    # credential discovery.
    catalog = SqlCatalog(T.CATALOG_NAME, uri=uri, warehouse=wh, **{
        "gcs.service.host": server.endpoint,
        "gcs.oauth2.token": "fake",
        "gcs.oauth2.token-expires-at": str(int(time.time() * 1000) + 24 * 3600 * 1000),
    })
    catalog.create_namespace_if_not_exists(T.NAMESPACE)
    object_store = {
        "type": "gcs",
        "endpoint": server.endpoint,
        "allow_http": True,
        # No OAuth against an emulator: send requests unsigned.
        "options": {"google_skip_signature": "true"},
    }
    return T.Warehouse(catalog, uri, wh, object_store)


# --------------------------------------------------------------------------------------------
# Azure: azurite (Blob service; ADLS Gen2 locations are read through the Blob API)

AZURITE_ACCOUNT = "devstoreaccount1"
# Azurite's well-known development key (public, documented by Microsoft).
AZURITE_KEY = ("Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/"
               "KBHBeksoGMGw==")


@dataclass
class AzureServer:
    endpoint: str  # http://127.0.0.1:port
    proc: subprocess.Popen
    log: Path
    account: str = AZURITE_ACCOUNT
    key: str = AZURITE_KEY

    @property
    def account_url(self) -> str:
        """The Blob endpoint of the account (path-style, as azurite serves it)."""
        return f"{self.endpoint}/{self.account}"

    @property
    def connection_string(self) -> str:
        return (f"DefaultEndpointsProtocol=http;AccountName={self.account};"
                f"AccountKey={self.key};BlobEndpoint={self.account_url};")

    def create_container(self, name: str) -> None:
        from azure.storage.blob import BlobServiceClient  # installed with adlfs

        BlobServiceClient.from_connection_string(self.connection_string).create_container(name)

    def stop(self) -> None:
        stop_process(self.proc)


def start_azurite(workdir: Path) -> AzureServer:
    workdir.mkdir(parents=True, exist_ok=True)
    binary = _installed(EMULATORS_DIR / f"azurite-{AZURITE_VERSION}" / "node_modules" / ".bin"
                        / "azurite-blob")
    port = free_port()
    endpoint = f"http://127.0.0.1:{port}"
    # --skipApiVersionCheck: the Python SDK and object_store send newer API versions than
    # azurite 3.35 knows; the calls they make are the same.
    proc = _start([binary, "--blobHost", "127.0.0.1", "--blobPort", str(port),
                   "--inMemoryPersistence", "--skipApiVersionCheck", "--silent"],
                  workdir / "azurite.log", f"{endpoint}/{AZURITE_ACCOUNT}?comp=list", "azurite",
                  any_status=True)  # unsigned calls are refused, but any answer means it is up
    return AzureServer(endpoint, proc, workdir / "azurite.log")


def azure_warehouse(root: Path, server: AzureServer, container: str) -> T.Warehouse:
    """Files under abfss://container@account.dfs.core.windows.net/wh, the Hadoop/Spark spelling
    of ADLS Gen2 locations, written through adlfs (fsspec)."""
    root = root.resolve()
    root.mkdir(parents=True, exist_ok=True)
    uri = f"sqlite:///{root}/catalog.db"
    wh = f"abfss://{container}@{server.account}.dfs.core.windows.net/wh"
    catalog = SqlCatalog(T.CATALOG_NAME, uri=uri, warehouse=wh, **{
        "py-io-impl": "pyiceberg.io.fsspec.FsspecFileIO",
        "adls.connection-string": server.connection_string,
        "adls.account-name": server.account,
    })
    catalog.create_namespace_if_not_exists(T.NAMESPACE)
    object_store = {
        "type": "azure",
        "endpoint": server.account_url,  # the account name comes from each location
        "allow_http": True,
        "options": {"azure_storage_account_key": server.key},
    }
    return T.Warehouse(catalog, uri, wh, object_store)


def azure_blob_warehouse(root: Path, server: AzureServer, container: str) -> T.Warehouse:
    """Files under abfs://container/wh (the fsspec spelling: the account is configured, not
    in the location), written through pyarrow's Azure file system."""
    root = root.resolve()
    root.mkdir(parents=True, exist_ok=True)
    uri = f"sqlite:///{root}/catalog.db"
    wh = f"abfs://{container}/wh"
    authority = server.endpoint.removeprefix("http://")
    catalog = SqlCatalog(T.CATALOG_NAME, uri=uri, warehouse=wh, **{
        "py-io-impl": "pyiceberg.io.pyarrow.PyArrowFileIO",
        "adls.account-name": server.account,
        "adls.account-key": server.key,
        "adls.blob-storage-authority": authority,
        "adls.blob-storage-scheme": "http",
        "adls.dfs-storage-authority": authority,
        "adls.dfs-storage-scheme": "http",
    })
    catalog.create_namespace_if_not_exists(T.NAMESPACE)
    object_store = {
        "type": "azure",
        "endpoint": server.account_url,
        "allow_http": True,
        "options": {"azure_storage_account_name": server.account,
                    "azure_storage_account_key": server.key},
    }
    return T.Warehouse(catalog, uri, wh, object_store)


# --------------------------------------------------------------------------------------------
# S3 with SigV4 enforced: moto checks every request's signature against its IAM users once
# `enforce_auth` is called (until then it accepts anything, which is how the user is made).

REGION = "us-east-1"


@dataclass
class SigV4S3Server:
    endpoint: str
    proc: subprocess.Popen
    log: Path
    access_key: str = ""
    secret_key: str = ""

    def client(self, access_key: str, secret_key: str, service: str = "s3"):
        return boto3.client(service, endpoint_url=self.endpoint, aws_access_key_id=access_key,
                            aws_secret_access_key=secret_key, region_name=REGION)

    def create_user(self, name: str, actions: tuple[str, ...] = ("s3:*",)) -> None:
        """An IAM user allowed `actions` (every S3 action by default); its keys become
        `access_key`/`secret_key`."""
        iam = self.client("bootstrap", "bootstrap", "iam")
        iam.create_user(UserName=name)
        iam.put_user_policy(UserName=name, PolicyName="allowed", PolicyDocument=json.dumps({
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": list(actions), "Resource": "*"}],
        }))
        key = iam.create_access_key(UserName=name)["AccessKey"]
        self.access_key, self.secret_key = key["AccessKeyId"], key["SecretAccessKey"]

    def enforce_auth(self) -> None:
        """From now on every request must be signed with an IAM user's key."""
        # Not form-encoded: moto reads the count from the raw body.
        req = urllib.request.Request(f"{self.endpoint}/moto-api/reset-auth", data=b"0",
                                     method="POST", headers={"Content-Type": "text/plain"})
        urllib.request.urlopen(req, timeout=10).read()

    def stop(self) -> None:
        stop_process(self.proc)


def start_sigv4_moto(workdir: Path) -> SigV4S3Server:
    workdir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    endpoint = f"http://127.0.0.1:{port}"
    log = workdir / "moto-sigv4.log"
    proc = _start([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                  log, f"{endpoint}/moto-api/", "moto S3 server (SigV4)")
    return SigV4S3Server(endpoint, proc, log)
