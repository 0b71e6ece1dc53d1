"""SSH keys in the profile, on the page and through the API: the kinds accepted, the ones refused and why,
SHA256 fingerprints as ssh-keygen prints them, duplicates refused, deletion, nobody sees another's keys."""

from __future__ import annotations

import base64
import hashlib
import shutil
import subprocess

import pytest

from fleet.requests import sshkeys
from fleet.requests.models import SshKey
from tests.inventory.scenario import Scenario
from tests.requests.keys import line

PAGE = "/account/keys/"
API = "/api/ssh-keys/"


@pytest.mark.parametrize(
    ("kind", "openssh", "bits"),
    [
        ("ed25519", "ssh-ed25519", 256),
        ("ecdsa256", "ecdsa-sha2-nistp256", 256),
        ("ecdsa521", "ecdsa-sha2-nistp521", 521),
        ("rsa2048", "ssh-rsa", 2048),
    ],
)
def test_accepted_kinds_parse_with_their_fingerprint(kind: str, openssh: str, bits: int) -> None:
    text = line(kind)
    key = sshkeys.parse("  " + text.replace(" ", "   ") + "\n")
    blob = base64.b64decode(text.split()[1])
    expected = "SHA256:" + base64.b64encode(hashlib.sha256(blob).digest()).decode().rstrip("=")
    assert (key.kind, key.bits, key.fingerprint, key.comment, key.line) == (
        openssh,
        bits,
        expected,
        "me@laptop",
        text,
    )


def test_the_fingerprint_is_the_one_ssh_keygen_prints(tmp_path) -> None:
    if shutil.which("ssh-keygen") is None:
        pytest.skip("ssh-keygen is not installed")
    (tmp_path / "k.pub").write_text(line("ed25519") + "\n")
    printed = subprocess.run(
        ["ssh-keygen", "-l", "-E", "sha256", "-f", str(tmp_path / "k.pub")], capture_output=True, text=True
    ).stdout.split()[1]
    assert sshkeys.parse(line("ed25519")).fingerprint == printed


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("", "Paste a public key"),
        ("ssh-ed25519", "no key data"),
        ("ssh-ed25519 AAAA!!notbase64", "not a valid ssh-ed25519 key"),
        ("ssh-ed25519 " + base64.b64encode(b"garbage").decode(), "not a valid ssh-ed25519 key"),
        ("ssh-foo AAAAB3", "is not an OpenSSH public key type"),
        ("-----BEGIN OPENSSH PRIVATE KEY----- b3Blbn", "This is a private key"),
        ("sk-ssh-ed25519@openssh.com AAAA", "Security-key keys"),
    ],
)
def test_malformed_text_is_refused_with_a_reason(text: str, says: str) -> None:
    with pytest.raises(sshkeys.InvalidKey, match=says):
        sshkeys.parse(text)


def test_dsa_short_rsa_and_a_type_that_lies_are_refused() -> None:
    with pytest.raises(sshkeys.InvalidKey, match="DSA keys"):
        sshkeys.parse(line("dsa"))
    with pytest.raises(sshkeys.InvalidKey, match="1024 bits; at least 2048"):
        sshkeys.parse(line("rsa1024"))
    lying = "ssh-rsa " + line("ed25519").split()[1]
    with pytest.raises(sshkeys.InvalidKey, match="not a valid ssh-rsa key"):
        sshkeys.parse(lying)


def test_the_page_adds_shows_refuses_and_deletes(login, scenario: Scenario) -> None:
    client = login("alice")
    assert "You have no SSH keys." in client.get(PAGE).content.decode()
    added = client.post(PAGE, {"action": "add", "public_key": line("ed25519"), "name": ""})
    assert added.status_code == 302 and added["Location"] == PAGE
    key = SshKey.objects.get(user=scenario.alice)
    page = client.get(PAGE).content.decode()
    assert f'<code class="fingerprint">{key.fingerprint}</code>' in page and "<td>me@laptop</td>" in page
    again = client.post(PAGE, {"action": "add", "public_key": line("ed25519"), "name": "twice"})
    assert again.status_code == 400 and "You already have this key" in again.content.decode()
    dsa = client.post(PAGE, {"action": "add", "public_key": line("dsa"), "name": ""})
    assert dsa.status_code == 400 and "DSA keys (ssh-dss) are not accepted" in dsa.content.decode()
    assert SshKey.objects.count() == 1
    # bob cannot delete alice's key: it is not found among his
    assert login("bob").post(PAGE, {"action": "delete", "key": key.pk}).status_code == 404
    assert client.post(PAGE, {"action": "delete", "key": "x"}).status_code == 404
    assert client.post(PAGE, {"action": "delete", "key": key.pk}).status_code == 302
    assert not SshKey.objects.exists()


def test_the_api_adds_lists_refuses_and_deletes(login, scenario: Scenario) -> None:
    alice, bob = login("alice"), login("bob")
    made = alice.post(API, {"public_key": line("ecdsa256"), "name": "work"}, content_type="application/json")
    assert made.status_code == 201, made.content
    body = made.json()
    assert (body["name"], body["kind"], body["fingerprint"]) == (
        "work",
        "ecdsa-sha2-nistp256",
        sshkeys.parse(line("ecdsa256")).fingerprint,
    )
    assert [k["id"] for k in alice.get(API).json()["results"]] == [body["id"]]
    assert bob.get(API).json()["results"] == [] and bob.get(f"{API}{body['id']}/").status_code == 404
    for text, says in [
        (line("ecdsa256"), "already have"),
        (line("rsa1024"), "at least 2048"),
        ("x", "not an"),
    ]:
        refused = alice.post(API, {"public_key": text}, content_type="application/json")
        assert refused.status_code == 400 and says in refused.json()["public_key"][0], refused.content
    missing = alice.post(API, {}, content_type="application/json")
    assert missing.status_code == 400 and "public_key" in missing.json()
    assert bob.delete(f"{API}{body['id']}/").status_code == 404
    assert alice.delete(f"{API}{body['id']}/").status_code == 204
    assert alice.get(API).json()["results"] == []
