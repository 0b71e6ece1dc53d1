"""An SSH key of the caller's profile, as the API shows it and takes it."""

from __future__ import annotations

from rest_framework import serializers

from fleet.requests.models import SshKey


class SshKeySerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    class Meta:
        model = SshKey
        fields = ["id", "name", "kind", "bits", "fingerprint", "public_key", "created_at"]
        read_only_fields = ["id", "kind", "bits", "fingerprint", "created_at"]


class SshKeyCreateSerializer(serializers.Serializer):  # type: ignore[type-arg]
    public_key = serializers.CharField(
        max_length=16384,
        help_text="One OpenSSH public key line: ed25519, ecdsa, or rsa of 2048 bits or more.",
    )
    name = serializers.CharField(
        max_length=100, required=False, allow_blank=True, default="", help_text="The key's comment if empty."
    )
