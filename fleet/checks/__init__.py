"""Icinga checks of Ganeti clusters, one module per check, built on nagiosplugin.

The RAPI-based checks (cluster, balance, freemem, ippool, joblist, nodes, queue) run centrally: they reach the
cluster itself through `fleet.rapi`, never Fleet's database, so that Icinga sees what Ganeti says even when
Fleet's worker is behind. `watcher` runs on the master and reads what Ganeti keeps there (the watcher pause
file, the queue drain flag, the watcher's state files, `gnt-cluster verify`). Each check gathers in a
`nagiosplugin.Resource`, judges in `Context`s and reports in a `Summary`; `plugin.run` turns every failure to
reach or read the cluster into UNKNOWN with one line that says which.
"""
