from django.apps import AppConfig


class InventoryConfig(AppConfig):
    """The read model of the clusters: Cluster, NodeGroup, Node, Network, Instance."""

    name = "fleet.inventory"
    label = "inventory"
    verbose_name = "Inventory"
