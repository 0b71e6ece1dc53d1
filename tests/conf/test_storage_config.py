"""The [storage.<class>] and [limits] tables: storage classes per cluster or node group, their size limits,
the bounds of an application, each mistake named at start-up."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from fleet.conf.base import django_settings
from fleet.conf.config import load
from fleet.conf.storage import Limits, StorageConfig
from tests.conf.test_config import GOOD, KEY, SECRET

TWO_CLASSES = """
[limits]
memory_max_mb = 8192
vcpus_max = 4

[storage.fast]
description = "SSD"
min_gb = 5
max_gb = 100
on = [{ cluster = "*", vg = "ssd" }, { cluster = "c1.example.org", group = "rack2", vg = "nvme" }]

[storage.bulk]
max_gb = 2000
on = [
  { cluster = "c1.example.org", provider = "nfs" },
  { cluster = "c2.example.org", disk_templates = ["file"] },
]
"""


def config_file(tmp_path: Path, tables: str) -> dict[str, str]:
    path = tmp_path / "fleet.toml"
    path.write_text(f'secret_key = "{SECRET}"\ncredentials_key = "{KEY}"\n{tables}')
    return {"FLEET_CONFIG": str(path)}


def test_without_tables_no_classes_and_default_limits() -> None:
    config = load(GOOD)
    assert config.storage == StorageConfig() and config.limits == Limits()
    settings = django_settings(config)
    assert settings["FLEET_STORAGE"] == StorageConfig() and settings["FLEET_LIMITS"] == Limits()


def test_classes_per_cluster_and_group_the_most_specific_wins(tmp_path: Path) -> None:
    config = load(config_file(tmp_path, TWO_CLASSES) | {"FLEET_LIMITS_VCPUS_MAX": "6"})
    assert (config.limits.memory_max_mb, config.limits.vcpus_max, config.limits.memory_min_mb) == (
        8192,
        6,
        512,
    )
    fast, bulk = config.storage.classes["fast"], config.storage.classes["bulk"]
    assert (fast.description, fast.min_gb, fast.max_gb, bulk.min_gb, bulk.max_gb) == ("SSD", 5, 100, 1, 2000)
    assert fast.site("c1.example.org", "rack2").disk_params() == {"vg": "nvme"}
    assert fast.site("c1.example.org", "rack1").disk_params() == {"vg": "ssd"}
    assert fast.site("c1.example.org").disk_templates == ("drbd", "plain")
    assert bulk.site("c1.example.org").disk_params() == {"provider": "nfs"}
    assert bulk.site("c1.example.org").disk_templates == ("ext",)
    assert bulk.site("c2.example.org").disk_params() == {} and bulk.site("c3.example.org") is None
    assert sorted(config.storage.on("c3.example.org")) == ["fast"]
    assert sorted(config.storage.on("c2.example.org")) == ["bulk", "fast"]


@pytest.mark.parametrize(
    ("tables", "message"),
    [
        ('[storage.Fast]\non = [{ cluster = "*", vg = "x" }]', "storage.Fast .*lower-case"),
        ("[storage.fast]\nmax = 3\non = []", "storage.fast.max .*not a storage class setting"),
        ("[storage.fast]\non = []", "storage.fast.on .*must list where"),
        ('[storage.fast]\nmin_gb = 50\nmax_gb = 10\non = [{ cluster = "*", vg = "x" }]', "min_gb <= max_gb"),
        ('[storage.fast]\nmax_gb = "lots"\non = [{ cluster = "*", vg = "x" }]', "max_gb .*whole number"),
        ('[storage.fast]\non = [{ cluster = "*", vg = "x", provider = "y" }]', "not both"),
        ('[storage.fast]\non = [{ cluster = "*", pool = "x" }]', "'pool' is not one of"),
        ('[storage.fast]\non = [{ cluster = "", vg = "x" }]', "cluster must be"),
        ('[storage.fast]\non = [{ cluster = "*", vg = "x y" }]', "vg 'x y' is not a Ganeti name"),
        ('[storage.fast]\non = [{ cluster = "*", vg = "x", disk_templates = ["ext"] }]', "not 'ext'"),
        ('[storage.fast]\non = [{ cluster = "*" }]', "neither vg nor provider"),
        ("[limits]\nvcpus_min = 9\nvcpus_max = 4", "limits.vcpus_min .*at most"),
        ("[limits]\nmemory_mb = 9", "limits.memory_mb .*not a Fleet setting"),
        ("storage = 3", "storage .*must be tables"),
    ],
)
def test_each_mistake_is_named(tmp_path: Path, tables: str, message: str) -> None:
    with pytest.raises(ImproperlyConfigured, match=message):
        load(config_file(tmp_path, tables))


def test_classes_are_not_read_from_the_environment() -> None:
    with pytest.raises(
        ImproperlyConfigured, match="FLEET_STORAGE: storage classes are set in the config file"
    ):
        load(GOOD | {"FLEET_STORAGE": "fast"})


def test_the_examples_in_the_example_file_are_what_fleet_reads(tmp_path: Path) -> None:
    example = (Path(__file__).parents[2] / "fleet/conf/example.toml").read_text()
    start, end = example.index("# [limits]"), example.index("# This table must come last")
    settings = [line[2:] for line in example[start:end].splitlines() if re.match(r"# (\[|[a-z_]+ = )", line)]
    config = load(config_file(tmp_path, "\n".join(settings)))
    assert sorted(config.storage.classes) == ["bulk", "fast"] and config.limits == Limits()
    assert config.storage.classes["bulk"].site("ganeti2.example.org").disk_params() == {"provider": "nfs"}
