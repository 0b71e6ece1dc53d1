"""Read endpoints, shapes, errors and authentication of the shared simulator."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from tests.simulator.helpers import client, ok, tls
from tests.targets import RapiTarget


@pytest.fixture
def cl(simulator: list[RapiTarget]) -> httpx.Client:
    return client(simulator[0])


def test_two_clusters_each_on_its_address(simulator: list[RapiTarget]) -> None:
    assert len(simulator) == 2
    assert len({(t.host, t.port) for t in simulator}) == 2
    for target in simulator:
        info = ok(client(target).get("/2/info"))
        assert info["name"] == target.name


def test_root_version_features_and_server_header(cl: httpx.Client) -> None:
    resp = cl.get("/version")
    assert resp.json() == 2
    assert resp.headers["Server"].startswith("Ganeti 3.0")
    assert ok(cl.get("/")) is None and ok(cl.get("/2")) is None
    assert set(ok(cl.get("/2/features"))) == {
        "instance-create-reqv1", "instance-reinstall-reqv1", "node-migrate-reqv1", "node-evac-res1",
    }  # fmt: skip


def test_info_keys(cl: httpx.Client) -> None:
    info = ok(cl.get("/2/info"))
    for key in ("master", "tags", "ipolicy", "default_hypervisor", "vg_name", "drbd_helper", "beparams"):
        assert key in info
    assert "default" in info["beparams"]
    assert info["ipolicy"]["minmax"][0]["max"]["memory-size"] == 32768


def test_instance_list_and_bulk_shapes(cl: httpx.Client) -> None:
    plain = ok(cl.get("/2/instances"))
    assert plain == sorted(plain, key=lambda r: r["id"])
    assert set(plain[0]) == {"id", "uri"} and plain[0]["uri"] == f"/2/instances/{plain[0]['id']}"
    bulk = ok(cl.get("/2/instances", params={"bulk": 1}))
    assert [i["name"] for i in bulk] == [r["id"] for r in plain]
    for inst in bulk:
        assert inst["admin_state"] in ("up", "down", "offline")
        assert inst["beparams"]["memory"] == inst["beparams"]["maxmem"]
        assert isinstance(inst["oper_state"], bool)
        assert (inst["oper_ram"] is None) == (not inst["oper_state"])
        assert len(inst["nic.ips"]) == len(inst["nic.macs"]) == len(inst["nic.networks"])
    single = ok(cl.get(plain[0]["uri"]))
    assert single == bulk[0]


def test_node_group_network_shapes(cl: httpx.Client) -> None:
    nodes = ok(cl.get("/2/nodes", params={"bulk": 1}))
    roles = [n["role"] for n in nodes]
    assert roles.count("M") == 1 and set(roles) <= set("MCRDO")
    master = next(n for n in nodes if n["role"] == "M")
    assert ok(cl.get(f"/2/nodes/{master['name']}/role")) == "master"
    assert all("group.uuid" in n and "ndparams" in n for n in nodes)
    groups = ok(cl.get("/2/groups"))
    assert set(groups[0]) == {"name", "uri"}
    nets = ok(cl.get("/2/networks", params={"bulk": 1}))
    for net in nets:
        assert all(isinstance(g, list) and len(g) == 4 for g in net["group_list"])
        assert isinstance(net["external_reservations"], str)
        assert len(net["map"]) == net["free_count"] + net["reserved_count"]


def test_errors(cl: httpx.Client, simulator: list[RapiTarget]) -> None:
    resp = cl.get("/99/resource/not/here/99")
    assert resp.status_code == 404
    assert set(resp.json()) == {"code", "message", "explain"}
    assert cl.get("/2/instances/nonexistent.example.org").status_code == 404
    for method in ("PUT", "POST", "DELETE"):
        assert cl.request(method, "/version").status_code == 501
    assert cl.get("/2/instances", params={"bulk": "true"}).status_code == 400
    name = ok(cl.get("/2/instances"))[0]["id"]
    resp = cl.put(f"/2/instances/{name}/modify", content=b"{}", headers={"Content-Type": "text/plain"})
    assert resp.status_code == 415
    resp = cl.put(
        f"/2/instances/{name}/modify", content=b"{nope", headers={"Content-Type": "application/json"}
    )
    assert resp.status_code == 400
    resp = cl.put(f"/2/instances/{name}/modify", json={"no_such_param": 1})
    assert resp.status_code == 400 and "no_such_param" in resp.json()["message"]
    assert cl.post("/2/instances", json={"mode": "create"}).status_code == 400  # no __version__


def test_authentication_and_authorization(simulator: list[RapiTarget]) -> None:
    target = simulator[0]
    anon, reader = client(target, None), client(target, "read")
    wrong = httpx.Client(base_url=target.url, verify=tls(target), auth=(target.username, "wrong"))
    assert anon.get("/2/info").status_code == 200  # public, as in Ganeti
    resp = wrong.get("/2/info")
    assert resp.status_code == 401 and resp.headers["WWW-Authenticate"] == 'Basic realm="Ganeti Remote API"'
    assert anon.get("/2/query/instance", params={"fields": "name"}).status_code == 401
    assert reader.get("/2/query/instance", params={"fields": "name"}).status_code == 200
    name = ok(anon.get("/2/instances"))[0]["id"]
    assert reader.put(f"/2/instances/{name}/startup").status_code == 403
    assert anon.put(f"/2/instances/{name}/startup").status_code == 401
    assert reader.request("GET", "/2/jobs/1/wait", json={"fields": ["status"]}).status_code == 403


def test_console(cl: httpx.Client) -> None:
    insts = ok(cl.get("/2/instances", params={"bulk": 1}))
    running = next(i for i in insts if i["status"] == "running")
    stopped = next(i for i in insts if not i["oper_state"])
    console = ok(cl.get(f"/2/instances/{running['name']}/console"))
    assert console["kind"] == "vnc" and console["port"] == running["network_port"] and console["host"]
    resp = cl.get(f"/2/instances/{stopped['name']}/console")
    assert resp.status_code == 503 and resp.json()["code"] == 503


def test_unknown_job_reads_as_nulls(cl: httpx.Client) -> None:
    job = ok(cl.get("/2/jobs/987654"))
    assert job["id"] == 987654 and job["status"] is None
    assert cl.get("/2/jobs/abc").status_code == 404


def test_query_fields_and_statuses(cl: httpx.Client) -> None:
    everything = ok(cl.get("/2/query/instance/fields"))["fields"]
    names = [f["name"] for f in everything]
    assert len(names) > 200 and {"name", "status", "oper_ram", "be/vcpus", "disk.size/0"} <= set(names)
    some = ok(cl.get("/2/query/node/fields", params={"fields": "role,name"}))["fields"]
    assert [f["name"] for f in some] == ["role", "name"]
    assert cl.get("/2/query/instance").status_code == 400
    result = ok(cl.get("/2/query/instance", params={"fields": "name, disk.size/0,disk.size/5,bogus"}))
    kinds = [f["kind"] for f in result["fields"]]
    assert kinds == ["text", "unit", "unit", "unknown"]
    for row in result["data"]:
        assert row[0][0] == 0 and row[1][0] == 0
        assert row[2] == [3, None]  # no sixth disk: unavailable
        assert row[3] == [1, None]  # unknown field


FILTERS = [
    (["==", "status", "running"], lambda i: i["status"] == "running"),
    (["!", ["==", "status", "running"]], lambda i: i["status"] != "running"),
    (
        ["&", ["==", "disk_template", "drbd"], ["?", "oper_state"]],
        lambda i: i["disk_template"] == "drbd" and i["oper_state"],
    ),
    (
        ["|", ["==", "admin_state", "down"], [">", "be/maxmem", 2048]],
        lambda i: i["admin_state"] == "down" or i["beparams"]["maxmem"] > 2048,
    ),
    (["=~", "name", "vm0000[1-5]"], lambda i: any(f"vm0000{d}" in i["name"] for d in "12345")),
    (["=[]", "snodes", "node02"], lambda i: any(s.startswith("node02.") for s in i["snodes"])),
    (["<=", "disk_usage", 20480], lambda i: i["disk_usage"] <= 20480),
    (["!=", "pnode", "node01"], lambda i: not i["pnode"].startswith("node01.")),
]


@pytest.mark.parametrize(("qfilter", "predicate"), FILTERS)
def test_query_filters_exact_counts(cl: httpx.Client, qfilter: list[object], predicate: object) -> None:
    bulk = ok(cl.get("/2/instances", params={"bulk": 1}))
    expected = sorted(i["name"] for i in bulk if predicate(i))  # type: ignore[operator]
    result = ok(cl.put("/2/query/instance", json={"fields": ["name"], "qfilter": qfilter}))
    assert sorted(r[0][1] for r in result["data"]) == expected


def test_query_filter_errors_and_legacy_key(cl: httpx.Client) -> None:
    # luxid cannot parse the request: RAPI answers 502
    assert (
        cl.put("/2/query/instance", json={"fields": ["name"], "qfilter": ["~~", "name", "x"]}).status_code
        == 502
    )
    # luxid's ParameterError for an unknown field is not caught by RAPI: a 500
    assert (
        cl.put("/2/query/instance", json={"fields": ["name"], "qfilter": ["==", "nope", 1]}).status_code
        == 500
    )
    master = ok(cl.get("/2/info"))["master"]
    result = ok(cl.put("/2/query/node", json={"fields": ["name"], "filter": ["?", "master"]}))
    assert result["data"] == [[[0, master]]]


def test_query_by_short_hostname(cl: httpx.Client) -> None:
    name = ok(cl.get("/2/instances"))[0]["id"]
    result = ok(
        cl.put("/2/query/instance", json={"fields": ["name"], "qfilter": ["==", "name", name.split(".")[0]]})
    )
    assert result["data"] == [[[0, name]]]


def test_tags_read(cl: httpx.Client) -> None:
    bulk = ok(cl.get("/2/instances", params={"bulk": 1}))
    tagged = next(i for i in bulk if i["tags"])
    assert ok(cl.get(f"/2/instances/{tagged['name']}/tags")) == tagged["tags"]
    assert any(t.startswith("fleet:user:") for i in bulk for t in i["tags"])
    assert isinstance(ok(cl.get("/2/tags")), list)


def test_clusters_file(simulator: list[RapiTarget]) -> None:
    target = simulator[0]
    rows = json.loads(Path(target.cert_file).with_name("clusters.json").read_text())
    assert rows[0]["url"] == target.url and len(rows[0]["fingerprint"]) == 64
