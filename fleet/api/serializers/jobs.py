"""Jobs as the API shows them: opcodes, statuses, times, log and error, requester and reason, and the objects
they act on."""

from __future__ import annotations

from rest_framework import serializers

from fleet.jobs.models import Job, JobTarget


class JobTargetSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    class Meta:
        model = JobTarget
        fields = ["kind", "name"]


class JobSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    cluster = serializers.CharField(source="cluster.name")
    targets = JobTargetSerializer(many=True, read_only=True, help_text="What the job's opcodes act on.")
    instance = serializers.CharField(source="instance.name", allow_null=True, default=None)
    requester = serializers.CharField(source="requester.username", allow_null=True, default=None)

    class Meta:
        model = Job
        fields = [
            "id",
            "job_id",
            "cluster",
            "status",
            "summary",
            "op_ids",
            "op_statuses",
            "received_at",
            "started_at",
            "ended_at",
            "requester",
            "reason",
            "instance",
            "targets",
            "result",
            "error_class",
            "error_message",
            "error_code",
            "log",
        ]
