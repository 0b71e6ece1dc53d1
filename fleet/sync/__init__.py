"""The worker: all background work (per-cluster poll loop, snapshot, job follower, health, reconcile)."""
