"""The REST API: read-only viewsets over the read model, scoped by the access policy, described by OpenAPI."""
