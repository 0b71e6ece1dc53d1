"""``/metrics``: Prometheus's text format (or OpenMetrics, when the scraper asks for it), for the scrapes
that ``fleet.conf.metrics`` lets in: from an allowed network, or with the bearer token."""

from __future__ import annotations

import hmac
import ipaddress

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_safe
from prometheus_client.exposition import choose_encoder

from fleet.conf.metrics import MetricsConfig
from fleet.metrics.collector import registry

REGISTRY = registry()


def allowed(request: HttpRequest, config: MetricsConfig) -> bool:
    """Whether the scrape may read the metrics: the token, or a client address in an allowed network."""
    header = request.headers.get("Authorization", "")
    scheme, _, credentials = header.partition(" ")
    if config.token and scheme.lower() == "bearer":
        return hmac.compare_digest(credentials.strip().encode(), config.token.encode())
    try:
        address = ipaddress.ip_address(request.META.get("REMOTE_ADDR", ""))
    except ValueError:
        return False
    return any(address in network for network in config.allow_networks)


@require_safe
def metrics(request: HttpRequest) -> HttpResponse:
    """The metrics, or 403 saying how to get in."""
    config: MetricsConfig = settings.FLEET_METRICS
    if not allowed(request, config):
        hint = (
            "/metrics is closed: set [metrics] token or allow_networks in fleet.toml (docs/metrics.md)\n"
            if config.closed
            else "forbidden: send the metrics token as a bearer token, or scrape from an allowed network\n"
        )
        return HttpResponse(hint, status=403, content_type="text/plain; charset=utf-8")
    encoder, content_type = choose_encoder(request.headers.get("Accept", ""))
    return HttpResponse(encoder(REGISTRY), content_type=content_type)
