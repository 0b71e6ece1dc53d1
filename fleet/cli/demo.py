"""`fleet demo`: a whole Fleet on one machine, in one foreground command.

It writes a configuration of its own under the state directory (``var/demo`` by default: generated keys and
a SQLite database, kept across runs), migrates, starts `fleet simulate` as a child, registers every simulated
cluster the way `fleet cluster add` does (certificate pinned), creates a demo admin and a demo user who owns
VMs through the clusters' owner tags, starts `fleet console-proxy`, `fleet worker` and a gunicorn web server
as children, waits for
the first sync and for the pages to answer, prints how to log in, and runs until SIGINT or SIGTERM, when it
stops every child. The browser tests start their stack with this same command.
"""

from __future__ import annotations

import collections
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import click
import httpx

from fleet.simulator.process import SimulatorProcess, free_port, start_simulator

DEFAULT_STATE_DIR = Path("var", "demo")
CONFIG_FILE = "fleet.toml"
ACCOUNTS_FILE = "accounts.json"
READY_FILE = "demo.json"
VNC_PASSWORD_FILE = "vnc-password"  # the simulated nodes' vnc_password_file
ADMIN = "admin"
TAG_PREFIX = "fleet"  # the configuration's default, which the simulated fleets' owner tags use
FLEET = [sys.executable, "-c", "from fleet.cli.main import main; main()"]
READY_TIMEOUT = 300.0
# The demo serves plain http on this machine: cookies must travel without TLS, and nothing redirects to https.
PLAIN_HTTP = {"FLEET_SECURE_COOKIES": "false", "FLEET_SSL_REDIRECT": "false"}
# A Prometheus on this machine may scrape the demo's /metrics (docs/metrics.md).
METRICS_FROM_LOOPBACK = {"FLEET_METRICS_ALLOW_NETWORKS": "127.0.0.0/8,::1/128"}


class DemoError(click.ClickException):
    """A step of the demo failed; the message says which, and where its log is."""


@dataclass
class Child:
    """A process the demo started, and where its output goes."""

    name: str
    process: subprocess.Popen[bytes]
    log: Path

    def stop(self, timeout: float = 15.0) -> None:
        """SIGTERM, wait, and kill if it does not stop in time."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


@dataclass
class Demo:
    """The demo stack: its settings, and the children once started."""

    state_dir: Path
    profile: str = "grnet"
    port: int = 8000
    host: str = "127.0.0.1"
    interval: float = 10.0
    rapi_timeout: float = 10.0
    instances: int | None = None
    time_scale: float = 1.0
    smtp: tuple[str, int] | None = (
        None  # where the worker sends the demo's mails; None: the outbox keeps them
    )
    history_days: float | None = None  # days of past jobs per queue; None: the profile's default
    echo: Callable[[str], None] = click.echo
    simulator: SimulatorProcess | None = None
    children: list[Child] = field(default_factory=list)
    facts: dict[str, Any] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}/"

    @property
    def config_file(self) -> Path:
        return self.state_dir / CONFIG_FILE

    def start(self) -> dict[str, Any]:
        """Bring everything up; return what `demo.json` holds (URL, accounts, control endpoint)."""
        self.state_dir.mkdir(parents=True, exist_ok=True)
        (self.state_dir / READY_FILE).unlink(missing_ok=True)
        _check_port_free(self.host, self.port)
        self._configure()
        self.echo(f"Database: {self.state_dir / 'fleet.sqlite3'} (migrating)")
        _migrate()
        self.echo(f"Starting `fleet simulate --profile {self.profile}`")
        self.simulator = self._start_simulator()
        self.echo(f"Registering {len(self.simulator.clusters)} clusters")
        vnc_password = (self.state_dir / VNC_PASSWORD_FILE).read_text().strip()
        for row in self.simulator.clusters:
            _register(row, self.rapi_timeout, vnc_password)
        user, owned = _pick_owner(self.simulator.clusters, self.rapi_timeout)
        accounts = self._accounts(user)
        started = time.time()
        console_port = free_port(self.host)
        os.environ["FLEET_CONSOLE_URL"] = f"ws://{self.host}:{console_port}/"  # the pages send browsers there
        self.children.append(
            self._spawn("console-proxy", "console-proxy", "--listen", f"{self.host}:{console_port}")
        )
        self.children.append(self._spawn("worker", "worker", "--interval", str(self.interval)))
        self.children.append(self._spawn_web())
        self.echo("Waiting for the first sync and the web server")
        _wait_for_sync(started, self._watch)
        self._wait_for_web()
        self.facts = {
            "url": self.url,
            "config": str(self.config_file),
            "admin": {"username": ADMIN, "password": accounts[ADMIN]},
            "user": {"username": user, "password": accounts[user], "owns": owned},
            "control_url": self.simulator.control_url,
            "console_url": os.environ["FLEET_CONSOLE_URL"],
            "simulator_state_dir": str(self.simulator.state_dir),
            "clusters": [row["name"] for row in self.simulator.clusters],
            "logs": {child.name: str(child.log) for child in self.children},
        }
        ready = self.state_dir / READY_FILE
        ready.write_text(json.dumps(self.facts, indent=2))
        ready.chmod(0o600)
        return self.facts

    def stop(self) -> None:
        """Stop the web server, the worker and the simulator, in that order."""
        for child in reversed(self.children):
            child.stop()
        self.children.clear()
        if self.simulator is not None:
            self.simulator.stop()
            self.simulator = None

    def dead_child(self) -> str | None:
        """The name of a child that has exited (it should not have), or None."""
        for child in self.children:
            if child.process.poll() is not None:
                return f"{child.name} (exit {child.process.returncode}; see {child.log})"
        if self.simulator is not None and self.simulator.process.poll() is not None:
            return f"simulator (see {self.simulator.state_dir / 'simulator.log'})"
        return None

    def _watch(self) -> None:
        dead = self.dead_child()
        if dead:
            raise DemoError(f"the {dead} stopped")

    def _configure(self) -> None:
        """Write the demo's configuration once (its keys must survive restarts), and point this process and
        its children at it alone: inherited FLEET_* variables would win over the file."""
        if not self.config_file.exists():
            hosts = sorted({"localhost", "127.0.0.1", "[::1]", self.host})
            text = (
                "# Fleet's demo configuration, written by `fleet demo`; see fleet/conf/example.toml.\n"
                f'secret_key = "{secrets.token_urlsafe(50)}"\n'
                f'credentials_key = "{_fernet_key()}"\n'
                f'data_dir = "{self.state_dir}"\n'
                f"allowed_hosts = {json.dumps(hosts)}\n"
                "\n# The storage classes users pick for each disk (docs/requests.md), on the one VG\n"
                '[storage.fast]\ndescription = "SSD"\nmax_gb = 100\n'
                'on = [{ cluster = "*", vg = "xenvg" }]\n\n'
                '[storage.bulk]\ndescription = "large and slow"\nmax_gb = 1000\n'
                'on = [{ cluster = "*", vg = "xenvg", disk_templates = ["plain"] }]\n'
            )
            self.config_file.write_text(text)
            self.config_file.chmod(0o600)
        for name in [n for n in os.environ if n.startswith("FLEET_")]:
            del os.environ[name]
        os.environ["FLEET_CONFIG"] = str(self.config_file)
        os.environ.update(PLAIN_HTTP)
        os.environ.update(METRICS_FROM_LOOPBACK)
        os.environ["FLEET_SITE_URL"] = self.url.rstrip("/")  # mailed links lead to this demo
        if self.smtp is not None:
            host, port = self.smtp
            os.environ.update(
                {"FLEET_MAIL_HOST": host, "FLEET_MAIL_PORT": str(port), "FLEET_MAIL_TLS": "none",
                 "FLEET_MAIL_FROM": "Fleet demo <fleet@localhost>"}
            )  # fmt: skip
        os.environ["DJANGO_SETTINGS_MODULE"] = "fleet.conf.settings"
        from fleet.cli.django_app import setup

        setup()

    def _start_simulator(self) -> SimulatorProcess:
        state = self.state_dir / "simulator"
        state.mkdir(exist_ok=True)
        for stale in ("control.json", "clusters.json"):  # a previous run's; the new ones say it is up
            (state / stale).unlink(missing_ok=True)
        # The simulated consoles ask for a VNC password, as KVM with Ganeti's vnc_password_file does; Fleet's
        # proxy answers with it (stored per cluster, encrypted), so the demo shows the real path.
        password_file = self.state_dir / VNC_PASSWORD_FILE
        if not password_file.exists():
            password_file.write_text(secrets.token_urlsafe(6)[:8] + "\n")
            password_file.chmod(0o600)
        args = ["--profile", self.profile, "--vnc-password-file", str(password_file)]
        if self.instances is not None:
            args += ["--instances", str(self.instances)]
        if self.history_days is not None:
            args += ["--history", str(self.history_days)]
        try:
            return start_simulator(state, *args, time_scale=self.time_scale)
        except RuntimeError as exc:
            raise DemoError(str(exc)) from exc

    def _accounts(self, user: str) -> dict[str, str]:
        """The admin and ``user`` with their passwords (generated once, kept in accounts.json)."""
        from django.contrib.auth import get_user_model

        path = self.state_dir / ACCOUNTS_FILE
        passwords: dict[str, str] = json.loads(path.read_text()) if path.exists() else {}
        for name in (ADMIN, user):
            passwords.setdefault(name, secrets.token_urlsafe(9))
        path.write_text(json.dumps(passwords, indent=2))
        path.chmod(0o600)
        model = get_user_model()
        for name, is_admin in ((ADMIN, True), (user, False)):
            account, _ = model.objects.get_or_create(**{model.USERNAME_FIELD: name})
            account.is_superuser = account.is_staff = is_admin
            account.is_active = True
            account.email = account.email or f"{name}@localhost"  # confirmation links are mailed
            account.set_password(passwords[name])
            account.save()
        return passwords

    def _spawn(self, name: str, *args: str) -> Child:
        log = self.state_dir / f"{name}.log"
        with open(log, "ab") as out:
            process = subprocess.Popen([*FLEET, *args], stdout=out, stderr=subprocess.STDOUT)
        return Child(name, process, log)

    def _spawn_web(self) -> Child:
        log = self.state_dir / "web.log"
        cmd = [
            sys.executable, "-m", "gunicorn", "fleet.conf.wsgi:application",
            "--bind", f"{self.host}:{self.port}", "--workers", "2", "--threads", "4",
            "--access-logfile", "-", "--error-logfile", "-", "--graceful-timeout", "5",
        ]  # fmt: skip
        with open(log, "ab") as out:
            process = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT)
        return Child("web", process, log)

    def _wait_for_web(self) -> None:
        deadline = time.monotonic() + 60
        while True:
            self._watch()
            try:
                if httpx.get(self.url + "login/", timeout=5).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise DemoError(f"no answer at {self.url} (see {self.state_dir / 'web.log'})")
            time.sleep(0.2)


def _fernet_key() -> str:
    from cryptography.fernet import Fernet

    return Fernet.generate_key().decode()


def _check_port_free(host: str, port: int) -> None:
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError as exc:
            message = f"cannot listen on {host}:{port} ({exc.strerror}); choose another --port"
            raise DemoError(message) from exc


def _migrate() -> None:
    """Migrate and collect static files (SQLite is in WAL mode wherever Fleet opens it: fleet.conf.config)."""
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)
    call_command("collectstatic", verbosity=0, interactive=False)


def _register(row: dict[str, Any], timeout: float, vnc_password: str) -> None:
    """Register one simulated cluster as `fleet cluster add --update` does (a rerun's simulator has new ports,
    certificate and passwords), with its consoles' VNC password as `fleet console-password` stores it."""
    from fleet.cli.cluster import register
    from fleet.console.models import VncPassword

    url = f"https://{row['host']}:{row['port']}"
    cluster = register(
        url, row["username"], row["password"], row["fingerprint"], timeout=timeout, update=True
    )
    stored, _ = VncPassword.objects.get_or_create(cluster=cluster, defaults={"encrypted": ""})
    stored.set(vnc_password)
    stored.save()


def _pick_owner(clusters: list[dict[str, Any]], timeout: float) -> tuple[str, int]:
    """The user named by the most owner tags across the fleet (ties: the first name), and how many VMs.

    Asked of the clusters themselves, before the first sync: the ownership the pages show comes from Ganeti.
    """
    from fleet.access.tags import owners_from_tags
    from fleet.rapi import Credentials, Pin, RapiClient, query
    from fleet.sync.connect import timeouts

    counts: collections.Counter[str] = collections.Counter()
    for row in clusters:
        url = f"https://{row['host']}:{row['port']}"
        with RapiClient.connect(
            url,
            trust=Pin(row["fingerprint"]),
            credentials=Credentials(row["reader"], row["reader_password"]),
            timeouts=timeouts(timeout),
        ) as client:
            for record in client.call(query.get("instance", ["name", "tags"])).records():
                counts.update(owners_from_tags(record["tags"] or [], TAG_PREFIX).users)
    if not counts:
        raise DemoError("the simulated fleet has no owner tags: no VM to give the demo user")
    name, owned = min(counts.items(), key=lambda item: (-item[1], item[0]))
    return name, owned


def _wait_for_sync(since: float, watch: Callable[[], None]) -> None:
    """Until the worker has tried every cluster once after ``since``."""
    import datetime as dt

    from django.db import connection

    from fleet.inventory.models import Cluster

    after = dt.datetime.fromtimestamp(since, tz=dt.UTC)
    deadline = time.monotonic() + READY_TIMEOUT
    while Cluster.objects.exclude(last_attempt_at__gte=after).exists():
        watch()
        if time.monotonic() > deadline:
            raise DemoError("the first sync did not finish in time (see the worker's log)")
        time.sleep(0.5)
    connection.close()


def _announce(demo: Demo, facts: dict[str, Any]) -> None:
    from fleet.inventory.models import Cluster, Instance

    admin, user = facts["admin"], facts["user"]
    failed = list(Cluster.objects.exclude(health="healthy").values_list("name", "last_error"))
    echo = demo.echo
    echo("")
    echo(f"Fleet is running at {facts['url']}")
    echo(f"  admin: {admin['username']} / {admin['password']}   (superuser: every cluster, node and job)")
    echo(
        f"  user:  {user['username']} / {user['password']}   "
        f"(owns {user['owns']} VMs through their {TAG_PREFIX}:user:{user['username']} tags)"
    )
    echo(
        f"Synced {Cluster.objects.count()} clusters, {Instance.objects.count()} instances; "
        f"the worker passes every {demo.interval:g} s."
    )
    for name, error in failed:
        echo(f"  {name}: {error or 'not healthy'}")
    sim_state = facts["simulator_state_dir"]
    fleet = _fleet_command()
    echo(f"Try a fault: {fleet} simulate fault {facts['clusters'][0]} --blackhole --state-dir {sim_state}")
    echo(f"The CLI on the same data: FLEET_CONFIG={facts['config']} {fleet} cluster list")
    echo(f"Consoles through {facts['console_url']} (the simulator draws each running VM's screen)")
    echo(f"Logs: {demo.state_dir}/{{worker,web,console-proxy}}.log, {sim_state}/simulator.log")
    echo("Press Ctrl-C to stop.")
    from django.db import connection

    connection.close()  # the worker and the pages use the database from here on


def _fleet_command() -> str:
    """How to type `fleet` here: its name if the shell finds this one, else its path."""
    beside = Path(sys.executable).parent / "fleet"
    if not beside.exists() or shutil.which("fleet") == str(beside):
        return "fleet"
    return os.path.relpath(beside) if not os.path.relpath(beside).startswith("..") else str(beside)


class _Stop(Exception):
    """SIGTERM or SIGINT arrived."""


def _raise_stop(signum: int, frame: Any) -> None:
    raise _Stop(signal.Signals(signum).name)


@click.command()
@click.option("--port", type=click.IntRange(1, 65535), default=8000, show_default=True, help="Web port.")
@click.option("--host", default="127.0.0.1", show_default=True, help="Web address to listen on.")
@click.option(
    "--profile",
    type=click.Choice(["tiny", "grnet", "large"]),
    default="grnet",
    show_default=True,
    help="Shape of the simulated fleet.",
)
@click.option("--instances", type=click.IntRange(min=0), help="Total instances (overrides the profile).")
@click.option(
    "--state-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=DEFAULT_STATE_DIR,
    show_default=True,
    help="Configuration, database, accounts and logs (kept across runs).",
)
@click.option(
    "--interval",
    type=click.FloatRange(min=0.5),
    default=10.0,
    show_default=True,
    help="Seconds between syncs.",
)
@click.option(
    "--rapi-timeout",
    type=click.FloatRange(min=0.5),
    default=10.0,
    show_default=True,
    help="RAPI timeout of the registered clusters, s.",
)
@click.option(
    "--time-scale",
    type=click.FloatRange(min=0),
    default=1.0,
    show_default=True,
    help="Factor on the simulated jobs' durations (0.1: ten times faster).",
)
@click.option(
    "--history",
    "history_days",
    type=click.FloatRange(min=0),
    help="Days of past jobs in each simulated queue [default: the profile's].",
)
@click.option(
    "--smtp",
    metavar="HOST:PORT",
    help="Send the demo's mails to this SMTP server (plain, no login) [default: keep them in the outbox].",
)
def demo(
    port: int,
    host: str,
    profile: str,
    instances: int | None,
    state_dir: Path,
    interval: float,
    rapi_timeout: float,
    time_scale: float,
    history_days: float | None,
    smtp: str | None,
) -> None:
    """Run a simulated fleet, the worker and the web UI with a demo admin and user, until Ctrl-C."""
    relay = None
    if smtp:
        relay_host, _, relay_port = smtp.rpartition(":")
        if not relay_host or not relay_port.isdigit() or not 0 < int(relay_port) < 65536:
            raise click.BadParameter("HOST:PORT, e.g. 127.0.0.1:1025", param_hint="--smtp")
        relay = (relay_host, int(relay_port))
    stack = Demo(
        state_dir, profile, port, host, interval, rapi_timeout, instances, time_scale, relay, history_days
    )
    previous = {s: signal.signal(s, _raise_stop) for s in (signal.SIGTERM, signal.SIGINT)}
    try:
        _announce(stack, stack.start())
        while True:
            dead = stack.dead_child()
            if dead:
                raise DemoError(f"the {dead} stopped; stopping the demo")
            time.sleep(0.5)
    except _Stop:
        click.echo("Stopping.")
    finally:
        for signum in previous:
            signal.signal(signum, signal.SIG_IGN)  # a second Ctrl-C must not cut the shutdown short
        stack.stop()
        (state_dir / READY_FILE).unlink(missing_ok=True)
        for signum, handler in previous.items():
            signal.signal(signum, handler)
