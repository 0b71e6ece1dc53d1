"""Automatic placement: which cluster and node group a new VM goes to, from synced capacity. Pure functions
over plain values (``capacity.GroupCapacity``), so that they are tested on synthetic fleets and timed in
bench/ without a database; inside the chosen group Ganeti's iallocator (hail) picks the nodes."""
