"""The worker: everything Fleet does in the background against the clusters.

`snapshot` (fetch → diff → bulk write of one cluster), `fetch` (the bulk RAPI queries of a pass), `rows`
(RAPI records to columns), `loop` (one cluster's cadence, backoff and resyncs), `follower` (jobs to their
end), `health`, `leases` (which worker syncs which cluster), `worker` (all of it together), `connect` (a
cluster row to a RAPI client).
"""
