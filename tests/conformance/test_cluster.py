"""Cluster-level reads and the protocol rules, ported from Ganeti's qa/qa_rapi.py black-box checks."""

from __future__ import annotations

import hashlib
import socket
import ssl

import httpx
import pytest

from tests.conformance.official import (
    batch,
    call,
    create,
    facts,
    http,
    http_error,
    job,
    ok,
    raw,
    ssl_context,
    succeeded,
)
from tests.targets import RapiTarget

pytestmark = pytest.mark.conformance

FEATURES = {"instance-create-reqv1", "instance-reinstall-reqv1", "node-migrate-reqv1", "node-evac-res1"}
INSTANCE_FIELDS = (
    *("name", "os", "pnode", "snodes", "admin_state", "disk_template", "disk.sizes", "nic.ips", "nic.macs"),
    *("nic.modes", "nic.links", "beparams", "hvparams", "oper_state", "oper_ram", "status", "tags"),
)
NODE_FIELDS = ("name", "dtotal", "dfree", "mtotal", "mnode", "mfree", "pinst_cnt", "sinst_cnt", "tags")
ERROR_KEYS = {"code", "message", "explain"}


def test_certificate_matches_the_pinned_fingerprint(target: RapiTarget) -> None:
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    with (
        socket.create_connection((target.host, target.port), timeout=10) as sock,
        ctx.wrap_socket(sock) as tls,
    ):
        der = tls.getpeercert(binary_form=True)
    assert der is not None
    assert hashlib.sha256(der).hexdigest() == target.fingerprint


def test_version_info_features(target: RapiTarget) -> None:
    version, features, info, nodes, tags, oses, filters = batch(
        target,
        [
            call("GetVersion"),
            call("GetFeatures"),
            call("GetInfo"),
            call("GetNodes"),
            call("GetClusterTags"),
            call("GetOperatingSystems"),
            call("GetFilters"),
        ],
    )
    assert ok(version) == 2
    assert set(ok(features)) == FEATURES
    assert ok(info)["name"] == target.name
    assert ok(info)["master"] in ok(nodes)
    assert isinstance(ok(tags), list)
    assert ok(oses) and all(isinstance(o, str) for o in ok(oses))
    assert isinstance(ok(filters), list)


def test_root_and_version_raw(target: RapiTarget) -> None:
    with http(target) as c:
        for path, expected in (("/", None), ("/2", None), ("/version", 2)):
            response = c.get(path)
            assert response.status_code == 200
            assert response.headers["content-type"].startswith("application/json")
            assert response.json() == expected


def test_lists_and_bulk_have_their_fields(target: RapiTarget, unique: str) -> None:
    f = facts(target)
    name = f"conf-{unique}.example.test"
    r = batch(
        target,
        [
            create(name, f, start=False),
            call("GetInstances"),
            call("GetInstances", bulk=True),
            call("GetNodes", bulk=True),
            call("GetGroups"),
            call("GetGroups", bulk=True),
            raw("GET", "/2/instances"),
            raw("GET", "/2/nodes"),
            job("DeleteInstance", name),
        ],
    )
    succeeded(r[0])
    assert name in ok(r[1])
    bulk = {i["name"]: i for i in ok(r[2])}
    assert all(field in bulk[name] for field in INSTANCE_FIELDS)
    for node in ok(r[3]):
        assert all(field in node for field in NODE_FIELDS)
        assert node["role"] in ("M", "C", "R", "D", "O")
    assert all(isinstance(g, str) for g in ok(r[4])) and set(ok(r[4])) == set(f.groups) | set(ok(r[4]))
    assert all({"name", "uuid", "alloc_policy", "ipolicy", "node_list"} <= set(g) for g in ok(r[5]))
    listed = ok(r[6])
    assert {"id": name, "uri": f"/2/instances/{name}"} in listed
    assert [i["id"] for i in listed] == sorted(i["id"] for i in listed)
    assert {"id": f.master, "uri": f"/2/nodes/{f.master}"} in ok(r[7])
    succeeded(r[8])


@pytest.mark.parametrize("method", ["GET", "PUT", "POST", "DELETE"])
def test_unknown_resource_is_404(target: RapiTarget, method: str) -> None:
    with http(target) as c:
        response = c.request(method, "/99/resource/not/here/99", headers={"Content-Type": "application/json"})
    assert response.status_code == 404
    assert set(response.json()) == ERROR_KEYS and response.json()["code"] == 404


def test_version_rejects_writes_with_501(target: RapiTarget) -> None:
    with http(target) as c:
        for method in ("PUT", "POST", "DELETE"):
            response = c.request(method, "/version", headers={"Content-Type": "application/json"})
            assert response.status_code == 501, method
            body = response.json()
            assert set(body) == ERROR_KEYS and body["code"] == 501
            assert body["message"] == f"Method {method} is unsupported for path /version"


def test_error_statuses(target: RapiTarget) -> None:
    with http(target) as w, http(target, user="reader") as r:
        cases = [
            (w.get("/2/query/instance"), 400),  # fields missing
            (w.put("/2/instances/x.example.test/shutdown", params={"dry-run": "true"}), 400),
            (
                w.put(
                    "/2/instances/x.example.test/modify",
                    content="{not json",
                    headers={"Content-Type": "application/json"},
                ),
                400,
            ),
            (w.put("/2/instances/x.example.test/modify", json={"no_such_param": 1}), 400),
            (w.post("/2/instances", json={"mode": "create", "instance_name": "x.example.test"}), 400),
            (
                r.put("/2/instances/x.example.test/shutdown", headers={"Content-Type": "application/json"}),
                403,
            ),
            (w.get("/2/instances/no-such-instance.example.test"), 404),
            (
                w.put(
                    "/2/instances/x.example.test/modify", content="{}", headers={"Content-Type": "text/plain"}
                ),
                415,
            ),
        ]
        for response, status in cases:
            assert response.status_code == status, (
                response.request.method,
                response.request.url,
                response.text,
            )
            body = response.json()
            assert set(body) == ERROR_KEYS and body["code"] == status


def test_wrong_password_is_401_even_on_public_resources(target: RapiTarget) -> None:
    with httpx.Client(base_url=target.url, verify=ssl_context(target), auth=(target.username, "wrong")) as c:
        response = c.get("/2/info")
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == 'Basic realm="Ganeti Remote API"'
    assert response.json()["code"] == 401


def test_reader_may_query_but_not_write(target: RapiTarget) -> None:
    r = batch(
        target,
        [call("Query", "node", ["name"]), call("GetInfo"), call("AddClusterTags", ["x"]), call("GetJobs")],
        reader=True,
    )
    assert ok(r[0])["data"]
    assert ok(r[1])["name"] == target.name
    assert http_error(r[2]) == 403
    assert isinstance(ok(r[3]), list)


def test_info_modify_symmetry(target: RapiTarget) -> None:
    """qa_rapi: values read from /2/info can be written back through /2/modify unchanged."""
    keys = ("candidate_pool_size", "max_running_jobs", "max_tracked_jobs", "maintain_node_health")
    (info,) = batch(target, [call("GetInfo")])
    before = ok(info)
    r = batch(target, [job("ModifyCluster", **{k: before[k] for k in keys}), call("GetInfo")])
    assert succeeded(r[0])["ops"][0]["OP_ID"] == "OP_CLUSTER_SET_PARAMS"
    after = ok(r[1])
    assert {k: after[k] for k in keys} == {k: before[k] for k in keys}


def test_cluster_tags(target: RapiTarget, unique: str) -> None:
    tag = f"conformance:{unique}"
    r = batch(
        target,
        [
            job("AddClusterTags", [tag]),
            call("GetClusterTags"),
            job("DeleteClusterTags", [tag]),
            call("GetClusterTags"),
            job("AddClusterTags", ["bad tag with spaces"]),
        ],
    )
    succeeded(r[0])
    assert tag in ok(r[1])
    succeeded(r[2])
    assert tag not in ok(r[3])
    assert r[4]["job"]["status"] == "error"  # tag syntax is checked by the job, not at submission
