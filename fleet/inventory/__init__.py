"""The read model: typed rows for what the clusters hold, synced by ``fleet.sync``, read by the rest."""
