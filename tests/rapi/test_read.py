"""Every read endpoint family against a live RAPI over real HTTPS (the simulator, or real Ganeti)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from fleet.rapi import (
    Credentials,
    cluster,
    errors,
    filters,
    groups,
    instances,
    jobs,
    networks,
    nodes,
    qfilter,
    query,
)
from fleet.rapi.fields import GROUP_FIELDS, INSTANCE_FIELDS, JOB_FIELDS, NETWORK_FIELDS, NODE_FIELDS
from fleet.rapi.models import RS_UNKNOWN
from fleet.rapi.transport import ssl_context
from fleet.rapi.wire import Call, Response, as_any
from tests.rapi.conftest import Driver, ca_trust
from tests.targets import RapiTarget


def test_cluster(driver: Driver, target: RapiTarget) -> None:
    assert driver.call(target, cluster.version()) == 2
    info = driver.call(target, cluster.info())
    assert info["name"] == target.name
    assert info["master"]
    assert set(driver.call(target, cluster.features())) >= set(cluster.FEATURES)
    assert all("+" in name or name for name in driver.call(target, cluster.operating_systems()))
    assert driver.call(target, cluster.tags()) == info.get("tags", [])


def test_instances(driver: Driver, target: RapiTarget) -> None:
    names = driver.call(target, instances.list())
    bulk = driver.call(target, instances.bulk())
    assert names and names == [i["name"] for i in bulk]
    one = driver.call(target, instances.get(names[0]))
    assert one["name"] == names[0]
    assert isinstance(one["admin_state"], str)
    assert one["beparams"]["memory"] == one["beparams"]["maxmem"]
    assert driver.call(target, instances.tags(names[0])) == one["tags"]


def test_console_of_running_and_stopped_instances(driver: Driver, target: RapiTarget) -> None:
    bulk = driver.call(target, instances.bulk())
    running = next(i["name"] for i in bulk if i["status"] == "running")
    console = driver.call(target, instances.console(running), who="read")
    assert console["instance"] == running
    assert console["kind"] in ("ssh", "vnc", "spice", "msg")
    stopped = [i["name"] for i in bulk if i["status"] == "ADMIN_down"]
    if stopped:
        with pytest.raises(errors.Unavailable) as info:
            driver.call(target, instances.console(stopped[0]), who="read")
        assert info.value.status == 503


def test_nodes(driver: Driver, target: RapiTarget) -> None:
    names = driver.call(target, nodes.list())
    bulk = driver.call(target, nodes.bulk())
    assert names == [n["name"] for n in bulk]
    letters = {n["name"]: n["role"] for n in bulk}
    assert set(letters.values()) <= set("MCRDO")
    words = {"M": "master", "C": "master-candidate", "R": "regular", "D": "drained", "O": "offline"}
    assert driver.call(target, nodes.role(names[0])) == words[letters[names[0]]]
    assert driver.call(target, nodes.get(names[0]))["name"] == names[0]
    assert isinstance(driver.call(target, nodes.tags(names[0])), list)


def test_groups_and_networks(driver: Driver, target: RapiTarget) -> None:
    group_names = driver.call(target, groups.list())
    assert group_names == [g["name"] for g in driver.call(target, groups.bulk())]
    assert driver.call(target, groups.get(group_names[0]))["name"] == group_names[0]
    assert isinstance(driver.call(target, groups.tags(group_names[0])), list)
    network_names = driver.call(target, networks.list())
    assert network_names == [n["name"] for n in driver.call(target, networks.bulk())]
    for name in network_names[:1]:
        net = driver.call(target, networks.get(name))
        assert isinstance(net["group_list"], list)
        assert isinstance(driver.call(target, networks.tags(name)), list)


def test_jobs_and_filters(driver: Driver, target: RapiTarget) -> None:
    ids = driver.call(target, jobs.list())
    assert all(isinstance(i, int) for i in ids)
    assert [j.id for j in driver.call(target, jobs.bulk())] == ids
    assert isinstance(driver.call(target, filters.list()), list)
    with pytest.raises(errors.JobNotFound):
        driver.call(target, jobs.get(987654))


@pytest.mark.parametrize(
    ("resource", "fields"),
    [
        ("instance", INSTANCE_FIELDS),
        ("node", NODE_FIELDS),
        ("group", GROUP_FIELDS),
        ("network", NETWORK_FIELDS),
        ("job", JOB_FIELDS),
    ],
)
def test_the_sync_field_lists_are_all_known(
    driver: Driver, target: RapiTarget, resource: Any, fields: tuple[str, ...]
) -> None:
    defs = driver.call(target, query.fields(resource, fields), who="read")
    assert [d.name for d in defs] == list(fields)
    assert all(d.kind != "unknown" for d in defs), [d.name for d in defs if d.kind == "unknown"]
    result = driver.call(target, query.run(resource, fields), who="read")
    assert result.names == list(fields)
    assert all(status != RS_UNKNOWN for row in result.rows for status, _ in row)


def test_query_with_a_filter_and_by_get(driver: Driver, target: RapiTarget) -> None:
    everything = driver.call(target, query.get("instance", ["name", "status"]), who="read").records()
    running = driver.call(
        target, query.run("instance", ["name", "status"], qfilter.eq("status", "running")), who="read"
    ).records()
    assert running == [r for r in everything if r["status"] == "running"]
    master = driver.call(target, query.run("node", ["name"], qfilter.true("master")), who="read").records()
    assert [m["name"] for m in master] == [driver.call(target, cluster.info())["master"]]


def test_ca_file_trust_works(driver: Driver, target: RapiTarget) -> None:
    # The simulator's certificate names its host; real Ganeti's rapi.pem says CN=ganeti.example.com and is
    # trusted as the server's own certificate, without a host name check.
    assert driver.call(target, cluster.info(), trust=ca_trust(target))["name"] == target.name


# Errors -----------------------------------------------------------------------------------------------------


def test_404_unknown_instance(driver: Driver, target: RapiTarget) -> None:
    with pytest.raises(errors.NotFound) as info:
        driver.call(target, instances.get("no-such-instance.example.org"))
    assert (info.value.status, info.value.code) == (404, 404)
    assert info.value.message


def test_401_wrong_password(driver: Driver, target: RapiTarget) -> None:
    with pytest.raises(errors.Unauthorized) as info:
        driver.call(target, cluster.info(), creds=Credentials(target.username, "wrong"))
    assert info.value.status == 401


def test_403_reader_writing_and_waiting(driver: Driver, target: RapiTarget) -> None:
    name = driver.call(target, instances.list())[0]
    with pytest.raises(errors.Forbidden):
        driver.call(target, instances.startup(name), who="read")
    with pytest.raises(errors.Forbidden):
        driver.call(target, jobs.wait_for_change(1), who="read")


def test_400_bad_body(driver: Driver, target: RapiTarget) -> None:
    name = driver.call(target, instances.list())[0]
    with pytest.raises(errors.BadRequest) as info:
        driver.call(target, instances.modify(name, extra={"no_such_parameter": 1}))
    assert info.value.status == 400
    with pytest.raises(errors.BadRequest):
        driver.call(
            target, Call("POST", "/2/instances", as_any, body={"instance_name": "x"})
        )  # no __version__


def test_501_wrong_method(driver: Driver, target: RapiTarget) -> None:
    with pytest.raises(errors.Unimplemented) as info:
        driver.call(target, Call("PUT", "/version", as_any, body={}))
    assert info.value.status == 501


def test_415_is_mapped_from_the_servers_answer(target: RapiTarget) -> None:
    # The client always sends JSON; a raw request shows what a non-JSON body gets, then the same answer goes
    # through the client's mapping.
    tls = ssl_context(ca_trust(target))
    with httpx.Client(verify=tls, auth=(target.username, target.password), trust_env=False) as http:
        raw = http.put(
            f"{target.url}/2/instances/x/startup", content=b"x=1", headers={"Content-Type": "text/plain"}
        )
    assert raw.status_code == 415
    with pytest.raises(errors.UnsupportedMediaType) as info:
        instances.startup("x").result(Response(raw.status_code, raw.content, raw.reason_phrase))
    assert info.value.message
