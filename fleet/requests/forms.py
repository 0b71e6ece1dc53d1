"""The application form: every field checked here, once, for the page (and the API to come), each error on
the field at fault. The choices (OS, networks, storage classes) and the limits are read per form from the
synced clusters and the operator's configuration; no class attribute is changed per request (ganetimgr's
form class was, which leaked one user's choices into another's request)."""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator

from fleet.conf.storage import Limits, StorageConfig
from fleet.inventory.models import Cluster, Instance, Network
from fleet.requests.models import OPEN_STATUSES, Application

LABEL = r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?"
FQDN = re.compile(rf"{LABEL}(\.{LABEL})+")


def _range(low: int, high: int) -> list[Any]:
    return [MinValueValidator(low), MaxValueValidator(high)]


def placeable_clusters() -> Any:
    """The clusters new VMs may go to: not offline, not drained."""
    return Cluster.objects.filter(offline=False, drained=False)


def os_choices() -> list[str]:
    """The OS names some placeable cluster offers (its synced OS list)."""
    names: set[str] = set()
    for offered in placeable_clusters().values_list("os_names", flat=True):
        names.update(str(name) for name in offered or [])
    return sorted(names)


def network_choices() -> list[str]:
    """The names of the networks of the placeable clusters."""
    networks = Network.objects.filter(cluster__in=placeable_clusters())
    return sorted(set(networks.values_list("name", flat=True)))


def hostname_problem(hostname: str, application: Application | None = None) -> str | None:
    """Why ``hostname`` cannot be asked for (malformed, an instance's, an open application's), or None."""
    if hostname != hostname.lower():
        return "The hostname must be lower case."
    if len(hostname) > 253 or not FQDN.fullmatch(hostname):
        return "The hostname must be a fully qualified domain name, such as vm1.example.org."
    if Instance.objects.filter(name=hostname).exists():
        return f"There is already a VM named {hostname}."
    taken = Application.objects.filter(hostname=hostname, status__in=OPEN_STATUSES)
    if application is not None and application.pk:
        taken = taken.exclude(pk=application.pk)
    if taken.exists():
        return f"{hostname} is already asked for in another application."
    return None


class ApplicationForm(forms.Form):
    """What a user asks for. Disk 0 is the OS disk; disks 1..N are optional data disks."""

    hostname = forms.CharField(max_length=253, strip=True)
    memory_mb = forms.IntegerField(label="Memory (MiB)")
    vcpus = forms.IntegerField(label="vCPUs")
    os = forms.ChoiceField(label="Operating system")
    network = forms.ChoiceField()
    organisation = forms.CharField(max_length=200, strip=True)
    comments = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False, max_length=5000)
    accept_terms = forms.BooleanField(label="I accept the terms of service")

    def __init__(self, *args: Any, application: Application | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.application = application
        self.limits: Limits = settings.FLEET_LIMITS
        self.storage: StorageConfig = settings.FLEET_STORAGE
        limits = self.limits
        self.fields["memory_mb"].validators = _range(limits.memory_min_mb, limits.memory_max_mb)
        self.fields["memory_mb"].help_text = f"{limits.memory_min_mb} to {limits.memory_max_mb}"
        self.fields["vcpus"].validators = _range(limits.vcpus_min, limits.vcpus_max)
        self.fields["vcpus"].help_text = f"{limits.vcpus_min} to {limits.vcpus_max}"
        self.fields["os"].choices = [(name, name) for name in os_choices()]
        self.fields["network"].choices = [(name, name) for name in network_choices()]
        classes = [("", "—")] + [
            (name, f"{name}: {c.description}" if c.description else name)
            for name, c in self.storage.classes.items()
        ]
        for n in range(self.disk_count):
            required = n == 0
            self.fields[f"disk{n}_class"] = forms.ChoiceField(
                label="OS disk storage" if n == 0 else f"Data disk {n} storage",
                choices=classes,
                required=required,
            )
            self.fields[f"disk{n}_gb"] = forms.IntegerField(
                label="OS disk size (GiB)" if n == 0 else f"Data disk {n} size (GiB)", required=required
            )

    @property
    def disk_count(self) -> int:
        return 1 + self.limits.data_disks_max

    def disk_rows(self) -> list[tuple[Any, Any]]:
        """Each disk's two bound fields, for the template."""
        return [(self[f"disk{n}_class"], self[f"disk{n}_gb"]) for n in range(self.disk_count)]

    def clean_hostname(self) -> str:
        hostname = self.cleaned_data["hostname"].rstrip(".")
        problem = hostname_problem(hostname, self.application)
        if problem:
            raise forms.ValidationError(problem)
        return hostname

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        disks = []
        for n in range(self.disk_count):
            name, size = cleaned.get(f"disk{n}_class"), cleaned.get(f"disk{n}_gb")
            if not name and size is None:
                continue
            if not name:
                self.add_error(f"disk{n}_class", "Choose a storage class for this disk.")
                continue
            if size is None:
                self.add_error(f"disk{n}_gb", "Give this disk a size.")
                continue
            storage = self.storage.classes[name]
            if not storage.min_gb <= size <= storage.max_gb:
                self.add_error(
                    f"disk{n}_gb", f"A {name} disk is {storage.min_gb} to {storage.max_gb} GiB, not {size}."
                )
                continue
            disks.append({"storage_class": name, "size_gb": size})
        cleaned["disks"] = disks
        return cleaned

    def apply_to(self, application: Application) -> Application:
        """Copy the checked fields onto ``application`` (not saved)."""
        data = self.cleaned_data
        for name in ("hostname", "memory_mb", "vcpus", "os", "network", "organisation", "comments", "disks"):
            setattr(application, name, data[name])
        return application

    @classmethod
    def initial_from(cls, application: Application) -> dict[str, Any]:
        """The form's initial values from an application (to edit a failed one)."""
        initial: dict[str, Any] = {
            name: getattr(application, name)
            for name in ("hostname", "memory_mb", "vcpus", "os", "network", "organisation", "comments")
        }
        for n, disk in enumerate(application.disks):
            initial[f"disk{n}_class"], initial[f"disk{n}_gb"] = disk["storage_class"], disk["size_gb"]
        return initial
