"""One module per RAPI resource area; each function builds the typed `Call` for one endpoint."""

from fleet.rapi.endpoints import cluster, filters, groups, instances, jobs, networks, nodes, query

__all__ = ["cluster", "filters", "groups", "instances", "jobs", "networks", "nodes", "query"]
