"""The reviewer's manual placement: the choices a page offers (placeable clusters' node groups, their
networks with free IPs, the cluster's disk templates) and the check of what was chosen, each problem on
the field at fault. Unallocable groups and full networks are offered disabled, with the reason."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django import forms
from django.conf import settings

from fleet.conf.storage import StorageConfig
from fleet.inventory.models import AllocPolicy, Network, NodeGroup
from fleet.requests.forms import placeable_clusters
from fleet.requests.models import Application


@dataclass(frozen=True)
class Option:
    """One choice of a select: its value, what it reads, and why it is disabled (empty: enabled)."""

    value: str
    label: str
    disabled: str = ""


def group_options() -> list[Option]:
    groups = NodeGroup.objects.filter(cluster__in=placeable_clusters()).select_related("cluster")
    options = []
    for group in groups.order_by("cluster__name", "name"):
        unallocable = group.alloc_policy == AllocPolicy.UNALLOCABLE
        options.append(
            Option(
                f"{group.pk}",
                f"{group.cluster.name} / {group.name} ({group.node_count} nodes, {group.alloc_policy})",
                "unallocable" if unallocable else "",
            )
        )
    return options


def network_options() -> list[Option]:
    networks = Network.objects.filter(cluster__in=placeable_clusters()).select_related("cluster")
    return [
        Option(
            f"{network.pk}",
            f"{network.cluster.name} / {network.name} "
            f"({network.free_count} free, {network.reserved_count} reserved)",
            "no free IPs" if network.free_count == 0 else "",
        )
        for network in networks.order_by("cluster__name", "name")
    ]


def template_options() -> list[str]:
    templates: set[str] = set()
    for enabled in placeable_clusters().values_list("enabled_disk_templates", flat=True):
        templates.update(enabled or [])
    return sorted(templates)


class PlacementForm(forms.Form):
    """Where an approved application goes: a node group (and so a cluster), a network of that cluster, and
    a disk template the cluster enables and every disk's storage class offers there."""

    group = forms.IntegerField(label="Node group")
    network = forms.IntegerField()
    disk_template = forms.CharField(max_length=16)
    comment = forms.CharField(required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args: Any, application: Application, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.application = application

    def clean_group(self) -> NodeGroup:
        group = (
            NodeGroup.objects.filter(pk=self.cleaned_data["group"], cluster__in=placeable_clusters())
            .select_related("cluster")
            .first()
        )
        if group is None:
            raise forms.ValidationError("No such node group on a cluster open to new VMs.")
        if group.alloc_policy == AllocPolicy.UNALLOCABLE:
            raise forms.ValidationError(f"Node group {group.name} is unallocable.")
        return group

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        group: NodeGroup | None = cleaned.get("group")
        if group is None:
            return cleaned
        cluster = group.cluster
        network = Network.objects.filter(pk=cleaned.get("network") or 0, cluster=cluster).first()
        if "network" in cleaned:
            if network is None:
                self.add_error("network", f"Choose a network of {cluster.name}.")
            elif network.free_count == 0:
                self.add_error("network", f"Network {network.name} has no free IP address.")
            else:
                cleaned["network"] = network
        storage: StorageConfig = settings.FLEET_STORAGE
        sites = {}
        for disk in self.application.disks:
            site = storage.classes[disk["storage_class"]].site(cluster.name, group.name)
            if site is None:
                self.add_error(
                    "group", f"Storage class {disk['storage_class']} is not on {cluster.name}/{group.name}."
                )
            else:
                sites[disk["storage_class"]] = site
        template = cleaned.get("disk_template")
        if template is None:
            return cleaned
        if template not in (cluster.enabled_disk_templates or []):
            self.add_error("disk_template", f"{cluster.name} does not enable the {template} disk template.")
            return cleaned
        for name, site in sites.items():
            if template not in site.disk_templates:
                self.add_error(
                    "disk_template",
                    f"Storage class {name} takes {', '.join(site.disk_templates)} there, not {template}.",
                )
        return cleaned


class RefusalForm(forms.Form):
    reason = forms.CharField(max_length=2000, strip=True, widget=forms.Textarea(attrs={"rows": 2}))
