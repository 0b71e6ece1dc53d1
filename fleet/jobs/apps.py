from django.apps import AppConfig


class JobsConfig(AppConfig):
    """Ganeti jobs submitted through Fleet or seen on the clusters, with their lifecycle."""

    name = "fleet.jobs"
    label = "jobs"
    verbose_name = "Jobs"
