"""Small helpers to build metric families: a gauge or counter keyed by its label values, filled as rows are
read, so that each collector states its names, help texts and labels once."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric

MIB = 1024 * 1024  # Ganeti reports memory and disk in MiB; Prometheus wants bytes


class Family:
    """One metric family being filled: ``add(value, *label_values)``; ``None`` values are left out (Ganeti
    reports no memory for an offline node: no sample, rather than a made-up zero)."""

    def __init__(
        self, name: str, documentation: str, labels: Sequence[str], *, counter: bool = False
    ) -> None:
        kind = CounterMetricFamily if counter else GaugeMetricFamily
        self.metric: Metric = kind(name, documentation, labels=list(labels))

    def add(self, value: float | None, *labels: str) -> None:
        if value is not None:
            self.metric.add_metric(list(labels), float(value))


class Families:
    """The families of one collector, by name, in the order they were declared."""

    def __init__(self) -> None:
        self.by_name: dict[str, Family] = {}

    def gauge(self, name: str, documentation: str, *labels: str) -> Family:
        self.by_name[name] = Family(name, documentation, labels)
        return self.by_name[name]

    def counter(self, name: str, documentation: str, *labels: str) -> Family:
        self.by_name[name] = Family(name, documentation, labels, counter=True)
        return self.by_name[name]

    def __getitem__(self, name: str) -> Family:
        return self.by_name[name]

    def __iter__(self) -> Iterator[Metric]:
        return (family.metric for family in self.by_name.values())


def timestamp(when: dt.datetime | None) -> float | None:
    """Seconds since the epoch, Prometheus's unit for a point in time."""
    return None if when is None else when.timestamp()


def mib(value: int | None) -> float | None:
    """Ganeti's MiB as bytes."""
    return None if value is None else value * MIB
