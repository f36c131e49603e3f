"""Two worker processes fill one study on a real PostgreSQL server: the way past one machine.

The fixture runs Debian's server binaries in a temporary directory on a free loopback port. PostgreSQL
refuses to run as root (CI runs as root), so then it runs as the `postgres` user the package creates."""

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

import pytest
from test_sweep import two_workers_fill_one_study

pytestmark = pytest.mark.slow
REQUIRED = os.environ.get("RNNLAB_REQUIRE_POSTGRES") == "1"  # .ci/run sets it: never skip silently in CI


def server_binaries() -> Path | None:
    found = shutil.which("pg_ctl")
    if found:
        return Path(found).resolve().parent
    versions = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
    return Path(versions[-1]).parent if versions else None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def as_server_user(command: list[str]) -> list[str]:
    if os.geteuid() != 0:
        return command
    return ["runuser", "-u", "postgres", "--", *command]


@pytest.fixture(scope="module")
def postgres_url():
    binaries = server_binaries()
    if binaries is None or (os.geteuid() == 0 and not _has_user("postgres")):
        message = "PostgreSQL server binaries (Debian's postgresql package) are not installed"
        if REQUIRED:
            pytest.fail(message)
        pytest.skip(message)
    home = Path(tempfile.mkdtemp(prefix="rnnlab-pg-", dir="/tmp"))  # /tmp: the server user can reach it
    if os.geteuid() == 0:
        shutil.chown(home, "postgres", "postgres")
    data, port = home / "data", free_port()
    # cwd: the server user may not be allowed into the checkout (a root-only home in CI)
    run = lambda *cmd: subprocess.run(as_server_user([str(c) for c in cmd]), check=True, capture_output=True,
                                      timeout=120, cwd=home)
    try:
        run(binaries / "initdb", "-D", data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync")
        run(binaries / "pg_ctl", "-D", data, "-l", home / "server.log", "-w", "-t", "60", "-o",
            f"-p {port} -k {home} -c listen_addresses=127.0.0.1 -c fsync=off", "start")
    except subprocess.CalledProcessError as exc:
        log = (home / "server.log").read_text() if (home / "server.log").exists() else ""
        shutil.rmtree(home, ignore_errors=True)
        pytest.fail(f"PostgreSQL did not start: {exc.stderr.decode()[-500:]} {log[-500:]}")
    yield f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres"
    subprocess.run(as_server_user([str(binaries / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"]),
                   capture_output=True, timeout=60, cwd=home)
    shutil.rmtree(home, ignore_errors=True)


def _has_user(name: str) -> bool:
    try:
        pwd.getpwnam(name)
        return True
    except KeyError:
        return False


def test_two_worker_processes_share_one_postgres_study(postgres_url, tmp_path):
    two_workers_fill_one_study(tmp_path, postgres_url)
