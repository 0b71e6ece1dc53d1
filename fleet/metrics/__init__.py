"""Prometheus metrics: collectors that read the read model and the job rows at scrape time (a scrape never
calls a cluster), the job-duration histograms built from Ganeti's own job records, the ``/metrics`` view,
and the node agent that exports each instance's CPU and NIC counters on a Ganeti node."""
