"""The read model's validation and constraints: bad values are refused with the field at fault."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from fleet.inventory.models import Cluster, Instance, Network, Node
from tests.inventory import factories

pytestmark = pytest.mark.django_db


def _errors(obj: object) -> dict[str, list[str]]:
    with pytest.raises(ValidationError) as info:
        obj.full_clean()  # type: ignore[attr-defined]
    return info.value.message_dict


def test_a_fingerprint_with_colons_and_capitals_is_normalized() -> None:
    cluster = Cluster(
        name="c.example.org", rapi_url="https://c.example.org:5080", rapi_fingerprint="AB:" * 31 + "AB"
    )
    cluster.full_clean()
    assert cluster.rapi_fingerprint == "ab" * 32


@pytest.mark.parametrize("fingerprint", ["", "ab" * 31, "zz" * 32, "ab" * 33])
def test_a_malformed_fingerprint_is_refused_on_its_field(fingerprint: str) -> None:
    cluster = Cluster(
        name="c.example.org", rapi_url="https://c.example.org:5080", rapi_fingerprint=fingerprint
    )
    assert "rapi_fingerprint" in _errors(cluster)


def test_rapi_must_be_https() -> None:
    cluster = Cluster(name="c.example.org", rapi_url="http://c.example.org:5080", rapi_fingerprint="ab" * 32)
    assert "rapi_url" in _errors(cluster)


def test_a_password_without_a_user_is_refused() -> None:
    cluster = Cluster(name="c.example.org", rapi_url="https://c.example.org:5080", rapi_fingerprint="ab" * 32)
    cluster.set_rapi_password("secret")
    assert "rapi_username" in _errors(cluster)


@pytest.mark.parametrize("cidr", ["192.0.2.1/24", "192.0.2.0/33", "not a network"])
def test_a_network_must_be_a_cidr_without_host_bits(cidr: str) -> None:
    network = Network(cluster=factories.cluster(), name="net", network=cidr)
    assert "network" in _errors(network)


def test_instance_names_are_unique_per_cluster_only() -> None:
    one, two = factories.cluster(), factories.cluster()
    factories.instance(one, "web.example.org")
    factories.instance(two, "web.example.org")
    with pytest.raises(IntegrityError), transaction.atomic():
        factories.instance(one, "web.example.org")


def test_on_node_finds_primaries_and_secondaries_once() -> None:
    cluster = factories.cluster()
    a, b, c = (factories.node(cluster) for _ in range(3))
    on_a = factories.instance(cluster, primary_node=a)
    drbd = factories.instance(cluster, primary_node=b)
    drbd.secondary_nodes.add(a)
    factories.instance(cluster, primary_node=c)
    assert set(Instance.objects.on_node(a)) == {on_a, drbd}
    assert Instance.objects.on_node(a).count() == 2


def test_deleting_a_cluster_removes_its_rows() -> None:
    cluster = factories.cluster()
    factories.instance(cluster, primary_node=factories.node(cluster))
    cluster.delete()
    assert (Instance.objects.count(), Node.objects.count()) == (0, 0)
