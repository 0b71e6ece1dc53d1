"""The worker: everything Fleet does in the background against the clusters.

`snapshot` (fetch → diff → bulk write of one cluster), `fetch` (the bulk RAPI queries of a pass), `rows`
(RAPI records to columns), `loop` (one cluster's actor: reads and followers post to its inbox, `messages`,
and only it writes), `reads` (everything a loop reads, as messages), `queue` (the job queue's cursor and
Job rows), `follower` (jobs to their end), `clients` (a loop's RAPI clients), `health`, `leases` (which
worker syncs which cluster), `worker` (all of it together), `connect` (a cluster row to a RAPI client).

The cadence defaults are here, free of Django, for the command line to show.
"""

DEFAULT_INTERVAL = 60.0
"""Seconds between full passes: they catch what changes without a job (a node that dies, a VM shut down
from inside); everything done through a job is seen through the job queue within a few seconds."""

DEFAULT_JOB_POLL = 2.0
"""Seconds between polls of a cluster's job queue: one request, empty at rest."""
