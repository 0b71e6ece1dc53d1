"""The [mail] table of fleet.toml: checked at start-up, each key named on error, the environment winning."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from fleet.conf.base import django_settings
from fleet.conf.config import load
from fleet.conf.mail import KEYS
from tests.conf.test_config import GOOD, KEY, SECRET


def config_file(tmp_path: Path, mail: str) -> dict[str, str]:
    path = tmp_path / "fleet.toml"
    path.write_text(f'secret_key = "{SECRET}"\ncredentials_key = "{KEY}"\n\n[mail]\n{mail}')
    return {"FLEET_CONFIG": str(path)}


def test_without_a_mail_table_nothing_is_sent() -> None:
    mail = load(GOOD).mail
    assert (mail.enabled, mail.host, mail.admins, mail.sender) == (False, None, (), "fleet@localhost")


def test_a_mail_table_becomes_fleets_and_djangos_settings(tmp_path: Path) -> None:
    (tmp_path / "smtp.password").write_text("s3cret\n")
    environ = config_file(
        tmp_path,
        'host = "smtp.example.org"\ntls = "ssl"\nuser = "fleet"\n'
        f'password_file = "{tmp_path / "smtp.password"}"\nfrom = "Fleet <fleet@example.org>"\n'
        'admins = ["NOC <noc@example.org>", "oncall@example.org"]\ntimeout = 5\ndigest_minutes = 30\n',
    )
    mail = load(environ).mail
    assert (mail.host, mail.port, mail.tls, mail.user, mail.password) == (
        "smtp.example.org", 465, "ssl", "fleet", "s3cret",
    )  # fmt: skip
    assert (mail.timeout, mail.digest_minutes, mail.retention_days) == (5.0, 30, 90)
    assert "s3cret" not in repr(mail)
    settings = django_settings(load(environ))
    assert settings["FLEET_MAIL"] == mail
    assert (settings["EMAIL_HOST"], settings["EMAIL_PORT"], settings["EMAIL_USE_SSL"]) == (
        "smtp.example.org", 465, True,
    )  # fmt: skip
    assert settings["DEFAULT_FROM_EMAIL"] == settings["SERVER_EMAIL"] == "Fleet <fleet@example.org>"
    assert settings["ADMINS"] == [("NOC", "noc@example.org"), ("", "oncall@example.org")]


def test_the_environment_wins_over_the_mail_table(tmp_path: Path) -> None:
    environ = config_file(tmp_path, 'host = "smtp.example.org"\nfrom = "fleet@example.org"\nport = 2525\n')
    mail = load(
        environ | {"FLEET_MAIL_PORT": "587", "FLEET_MAIL_ADMINS": "a@example.org, b@example.org"}
    ).mail
    assert (mail.host, mail.port, mail.tls, mail.admins) == (
        "smtp.example.org", 587, "starttls", ("a@example.org", "b@example.org"),
    )  # fmt: skip


@pytest.mark.parametrize(
    ("mail", "message"),
    [
        ('hots = "smtp.example.org"\n', r"mail.hots \(in .*\) is not a Fleet setting"),
        ('host = "smtp.example.org"\n', r"mail.from \(in .*\)|FLEET_MAIL_FROM is required with host"),
        ('tls = "maybe"\n', r"mail.tls \(in .*\) must be one of starttls, ssl, none, not 'maybe'"),
        ("port = 0\n", r"mail.port \(in .*\) must be a whole number from 1 to 65535, not 0"),
        ('port = "smtp"\n', r"mail.port \(in .*\) must be a whole number"),
        ("timeout = -1\n", r"mail.timeout \(in .*\) must be a number from 0.1 to 600"),
        ('user = "fleet"\n', r"mail.user \(in .*\) is set: give password or password_file too"),
        (
            'host = "smtp.example.org"\nfrom = "f@example.org"\ntls = "none"\nuser = "u"\npassword = "p"\n',
            r"mail.tls \(in .*\) is none: the password .* would cross the network in clear",
        ),
        ('password = "p"\npassword_file = "/etc/passwd"\n', "set one of them, not both"),
        ('password_file = "/nonexistent/smtp"\n', r"mail.password_file \(in .*\): cannot read /nonexistent"),
        (
            'ca_file = "/nonexistent/ca.pem"\n',
            r"mail.ca_file \(in .*\): /nonexistent/ca.pem is not a readable",
        ),
        ('from = "fleet"\n', r"mail.from \(in .*\): 'fleet' is not a mail address"),
        (
            'admins = ["noc@example.org", "oncall"]\n',
            r"mail.admins \(in .*\): 'oncall' is not a mail address",
        ),
        ("digest_minutes = 0\n", r"mail.digest_minutes \(in .*\) must be a whole number from 1 to 1440"),
        ("retention_days = 1.5\n", r"mail.retention_days \(in .*\) must be a whole number"),
        ("host = 25\n", r"mail.host \(in .*\) must be a string, not 25"),
    ],
)
def test_a_bad_mail_setting_is_refused_by_name(tmp_path: Path, mail: str, message: str) -> None:
    with pytest.raises(ImproperlyConfigured, match=message):
        load(config_file(tmp_path, mail))


def test_mail_that_is_not_a_table_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "fleet.toml"
    path.write_text(f'secret_key = "{SECRET}"\ncredentials_key = "{KEY}"\nmail = "smtp.example.org"\n')
    with pytest.raises(ImproperlyConfigured, match=r"mail \(in .*\) must be a table: \[mail\]"):
        load({"FLEET_CONFIG": str(path)})


def test_a_bad_mail_variable_is_named(tmp_path: Path) -> None:
    with pytest.raises(ImproperlyConfigured, match="FLEET_MAIL_TLS must be one of"):
        load(GOOD | {"FLEET_MAIL_TLS": "tls1.3"})


def test_the_example_mail_table_is_what_fleet_reads(tmp_path: Path) -> None:
    example = (Path(__file__).parents[2] / "fleet" / "conf" / "example.toml").read_text()
    section = example[example.index("# [mail]") :]
    settings = [line[2:] for line in section.splitlines() if re.fullmatch(r"# (\[mail\]|\w+ = .+)", line)]
    keys = {line.split(" = ")[0] for line in settings[1:]}
    assert keys == set(KEYS) - {"password"}  # the example shows password_file, the better of the two
    (tmp_path / "smtp.password").write_text("s3cret")
    (tmp_path / "ca.pem").write_text("")
    text = "\n".join(settings).replace("/etc/fleet/", f"{tmp_path}/").replace("smtp-ca.pem", "ca.pem")
    mail = load(config_file(tmp_path, text.removeprefix("[mail]\n"))).mail
    assert (mail.host, mail.port, mail.tls, mail.password) == ("smtp.example.org", 587, "starttls", "s3cret")
    assert mail.admins == ("NOC <noc@example.org>",)
