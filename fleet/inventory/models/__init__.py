"""The read model's tables, one module per kind of Ganeti object."""

from fleet.inventory.models.clusters import Cluster, ClusterHealth
from fleet.inventory.models.instances import (
    AdminState,
    DiskTemplate,
    Instance,
    InstanceOwner,
    InstanceQuerySet,
    InstanceStatus,
    Nic,
)
from fleet.inventory.models.networks import Network, NetworkConnection, NicMode
from fleet.inventory.models.nodes import AllocPolicy, Node, NodeGroup, NodeRole

__all__ = [
    "AdminState",
    "AllocPolicy",
    "Cluster",
    "ClusterHealth",
    "DiskTemplate",
    "Instance",
    "InstanceOwner",
    "InstanceQuerySet",
    "InstanceStatus",
    "Network",
    "NetworkConnection",
    "Nic",
    "NicMode",
    "Node",
    "NodeGroup",
    "NodeRole",
]
