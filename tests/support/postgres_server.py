"""A real PostgreSQL 15 (Debian's ``postgresql-15``) started by the tests, the demo and the
benches themselves: one server (``PostgresServer``), or a primary with a synchronous streaming
standby (``PostgresCluster``) configured from deploy/postgresql/.

``initdb`` into a fresh temporary directory, then ``pg_ctl start`` on a free loopback port with
its unix socket in that directory, so nothing depends on (or disturbs) the cluster the Debian
package runs on port 5432. PostgreSQL refuses to run as root and CI runs as root: then every
server command runs as the ``postgres`` system user the package creates (``runuser``), and the
directory belongs to that user; a non-root session runs the server as itself.

The server trusts loopback connections (any role, no password): it lives for one test session
or one demo, listens on 127.0.0.1 only, and the callers connect as each database role in turn.
"""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path
from types import TracebackType
from urllib.parse import quote

from tests.support import paths
from tests.support.broker import free_port

PACKAGE = "postgresql-15"
BIN = Path("/usr/lib/postgresql/15/bin")
# The system user the Debian package creates, which owns the server when tests run as root.
SERVICE_USER = "postgres"
SUPERUSER = "postgres"
DEPLOY = paths.DEPLOY / "postgresql"

# Settings for a throw-away test server. fsync off: a SIGKILLed server still recovers from the
# operating system's cache (only a power cut would lose data, and tests do not cut power); a
# test that measures or needs durability passes ``durable=True``.
FAST_SETTINGS = {"fsync": "off", "full_page_writes": "off"}


class PostgresMissing(RuntimeError):
    """PostgreSQL 15 or its system user is not installed: the session cannot run these tests."""


def server_program(name: str) -> Path:
    """A program of PostgreSQL 15's server package, or a sentence naming what to install."""
    path = BIN / name
    if not os.access(path, os.X_OK):
        raise PostgresMissing(
            f"PostgreSQL 15 is not installed ({path} is missing): install the Debian package"
            f" {PACKAGE} (`make test` installs it)"
        )
    return path


def server_user() -> str | None:
    """The user the server runs as when it cannot be us: ``postgres`` under root, else None."""
    if os.geteuid() != 0:
        return None
    try:
        pwd.getpwnam(SERVICE_USER)
    except KeyError:
        raise PostgresMissing(
            f"the system user {SERVICE_USER!r} is missing; PostgreSQL refuses to run as root and"
            f" the Debian package {PACKAGE} creates that user: reinstall it"
        ) from None
    return SERVICE_USER


def process_alive(pid: int) -> bool:
    """Whether a process runs. A killed postmaster is the child of whatever adopted it, which
    may reap it late: a zombie has died (it holds no port, no file) and counts as gone."""
    try:
        status = (Path("/proc") / str(pid) / "status").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return False
    state = next((line.split()[1] for line in status.splitlines() if line.startswith("State:")), "")
    return state not in ("Z", "X")  # zombie, dead


def give_to_server_user(path: Path) -> None:
    """Make a directory of ours the server user's (a no-op when the server runs as us)."""
    user = server_user()
    if user is not None:
        record = pwd.getpwnam(user)
        os.chown(path, record.pw_uid, record.pw_gid)


def as_server_user(command: list[str]) -> list[str]:
    user = server_user()
    return command if user is None else ["runuser", "-u", user, "--", *command]


class PostgresServer:
    """One PostgreSQL 15 cluster in its own directory: ``start``, ``stop``, ``kill``, URLs.

    As a context manager: initialised and started on entry; stopped (``pg_ctl stop -m fast``)
    and its directory removed on exit."""

    def __init__(
        self,
        *,
        port: int | None = None,
        settings: dict[str, str] | None = None,
        durable: bool = False,
        workdir: Path | None = None,
        includes: tuple[Path, ...] = (),
    ) -> None:
        """``includes``: configuration files (deploy/postgresql's) read before this harness's
        own lines, which then override what cannot hold on a loopback test server."""
        self.port = port or free_port()
        # Under /tmp, not pytest's tmp_path: that one is private to root, and the server user
        # must be able to reach its directory.
        self.workdir = workdir or Path(tempfile.mkdtemp(prefix="erap-postgres-"))
        self.data_dir = self.workdir / "data"
        self.socket_dir = self.workdir / "socket"
        self.log_path = self.workdir / "postgresql.log"
        self._settings = {**({} if durable else FAST_SETTINGS), **(settings or {})}
        self._includes = includes
        # PGOPTIONS for this harness's own psql sessions (e.g. a synchronous_commit that does
        # not wait for a standby while the standby is being made).
        self.psql_options = ""

    # -- life cycle --------------------------------------------------------------------------

    def prepare_directories(self) -> None:
        """The work and socket directories, owned by the server's user."""
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.socket_dir.mkdir(exist_ok=True)
        for path in (self.workdir, self.socket_dir):
            give_to_server_user(path)

    def initdb(self) -> None:
        """A new cluster: UTF-8, the C.UTF-8 locale, superuser ``postgres``, loopback trust."""
        initdb = server_program("initdb")
        server_program("pg_ctl")
        self.prepare_directories()
        self.run_program(
            [
                str(initdb),
                "--pgdata",
                str(self.data_dir),
                "--username",
                SUPERUSER,
                "--auth",
                "trust",
                "--encoding",
                "UTF8",
                "--locale",
                "C.UTF-8",
                # A test cluster is thrown away: no need to wait for its files to reach disk.
                "--no-sync",
            ]
        )
        self.append_configuration()

    def append_configuration(self, extra: dict[str, str] | None = None) -> None:
        """Append to postgresql.conf: the includes, then this server's own settings (the last
        occurrence of a setting wins), then ``extra``."""
        lines = [
            *(f"include '{path}'" for path in self._includes),
            "listen_addresses = '127.0.0.1'",
            f"port = {self.port}",
            f"unix_socket_directories = '{self.socket_dir}'",
            "max_connections = 100",
            "log_min_messages = warning",
            *(f"{name} = '{value}'" for name, value in {**self._settings, **(extra or {})}.items()),
        ]
        with (self.data_dir / "postgresql.conf").open("a") as conf:
            conf.write("\n# tests/support/postgres_server.py\n" + "\n".join(lines) + "\n")

    def start(self, timeout_s: float = 30.0) -> None:
        """Start the server and return once it accepts connections."""
        self.run_program(
            [
                str(server_program("pg_ctl")),
                "start",
                "--pgdata",
                str(self.data_dir),
                "--log",
                str(self.log_path),
                "--wait",
                "--timeout",
                str(int(timeout_s)),
            ]
        )

    def stop(self, mode: str = "fast") -> None:
        """``pg_ctl stop -m fast`` (or ``smart`` / ``immediate``), if it is running (a killed
        server leaves its postmaster.pid behind: nothing to stop then)."""
        if not self.is_running():
            return
        self.run_program(
            [
                str(server_program("pg_ctl")),
                "stop",
                "--pgdata",
                str(self.data_dir),
                "--mode",
                mode,
                "--wait",
            ]
        )

    def postmaster_pid(self) -> int | None:
        try:
            return int((self.data_dir / "postmaster.pid").read_text().splitlines()[0])
        except (FileNotFoundError, IndexError, ValueError):
            return None

    def is_running(self) -> bool:
        pid = self.postmaster_pid()
        return pid is not None and process_alive(pid)

    def kill(self, timeout_s: float = 10.0) -> None:
        """SIGKILL the postmaster, as a crash would; returns once it is gone. Its backends
        notice the postmaster's death and exit on their own."""
        pid = self.postmaster_pid()
        if pid is None:
            return
        os.kill(pid, signal.SIGKILL)
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if not process_alive(pid):
                return
            time.sleep(0.01)
        raise TimeoutError(f"the PostgreSQL postmaster {pid} outlived SIGKILL for {timeout_s} s")

    def show_setting(self, name: str, config_file: Path | None = None) -> str:
        """A setting as the server program reads it from its configuration (``postgres -C``),
        without connecting: from ``config_file`` instead of the cluster's own if given."""
        command = [str(server_program("postgres")), "-D", str(self.data_dir), "-C", name]
        if config_file is not None:
            command.append(f"--config-file={config_file}")
        done = subprocess.run(
            as_server_user(command), capture_output=True, text=True, check=False, cwd="/"
        )
        if done.returncode != 0:
            raise RuntimeError(f"postgres -C {name} failed: {done.stderr.strip()}")
        return done.stdout.strip()

    def remove(self) -> None:
        shutil.rmtree(self.workdir, ignore_errors=True)

    def __enter__(self) -> PostgresServer:
        try:
            self.initdb()
            self.start()
        except BaseException:
            self.stop("immediate")
            self.remove()
            raise
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            self.stop()
        finally:
            self.remove()

    # -- connecting --------------------------------------------------------------------------

    def url(self, database: str = "postgres", user: str = SUPERUSER) -> str:
        """A libpq URL for ``user`` on ``database`` over loopback TCP."""
        return f"postgresql://{quote(user)}@127.0.0.1:{self.port}/{quote(database)}"

    def psql(self, sql: str, dbname: str = "postgres", **variables: str) -> str:
        """Run SQL (``-c``) through ``psql`` as the superuser; returns its output."""
        return self._psql(["--command", sql], dbname, variables)

    def psql_file(self, path: Path, dbname: str = "postgres", **variables: str) -> str:
        """Run a SQL file through ``psql`` (``--set name=value`` for its ``:'name'``)."""
        return self._psql(["--file", str(path)], dbname, variables)

    def _psql(self, args: list[str], dbname: str, variables: dict[str, str]) -> str:
        command = [
            str(BIN / "psql"),
            "--no-psqlrc",
            "--quiet",
            "--tuples-only",
            "--no-align",
            "--set",
            "ON_ERROR_STOP=1",
            *(item for name, value in variables.items() for item in ("--set", f"{name}={value}")),
            *args,
            self.url(dbname),
        ]
        env = {**os.environ, "PGOPTIONS": self.psql_options} if self.psql_options else None
        done = subprocess.run(command, capture_output=True, text=True, check=False, env=env)
        if done.returncode != 0:
            raise RuntimeError(f"psql failed ({done.returncode}): {done.stderr.strip()}")
        return done.stdout

    def create_database(self, name: str, owner: str = SUPERUSER) -> str:
        """A new, empty database owned by ``owner``; returns the superuser's URL for it."""
        self.psql(f'CREATE DATABASE "{name}" OWNER "{owner}"')
        return self.url(name)

    def run_program(self, command: list[str]) -> None:
        """A server program, as the server's user; a sentence with its log if it fails."""
        done = subprocess.run(
            as_server_user(command), capture_output=True, text=True, check=False, cwd="/"
        )
        if done.returncode != 0:
            log = self.log_path.read_text() if self.log_path.exists() else ""
            raise RuntimeError(
                f"{Path(command[0]).name} failed ({done.returncode}):"
                f" {done.stderr.strip() or done.stdout.strip()}\n{log[-2000:]}"
            )


# -- the registry's roles and databases --------------------------------------------------------


class RegistryDatabase:
    """A database created the way deploy/postgresql/ says (roles.sql once per cluster, then
    database.sql), not yet migrated; a URL for each of the registry's roles (the test server
    trusts loopback connections: no passwords)."""

    def __init__(self, server: PostgresServer, name: str) -> None:
        if "erap_owner" not in server.psql("SELECT rolname FROM pg_roles").split():
            server.psql_file(DEPLOY / "roles.sql")
        server.psql_file(DEPLOY / "database.sql", database=name)
        self.server = server
        self.name = name
        self.superuser_url = server.url(name)
        self.owner_url = server.url(name, "erap_owner")
        self.app_url = server.url(name, "erap_app")
        self.reader_url = server.url(name, "erap_reader")
