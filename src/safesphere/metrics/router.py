"""``GET /metrics``: Prometheus text exposition of the state an operator alerts on."""

from __future__ import annotations

from collections.abc import Iterator

from fastapi import APIRouter, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.process_collector import ProcessCollector
from prometheus_client.registry import Collector

from safesphere.auth.access import MetricsReader
from safesphere.core.dependencies import ReadSession
from safesphere.core.errors import responses
from safesphere.metrics import service
from safesphere.metrics.service import Sample

router = APIRouter(tags=["metrics"])


class _Snapshot(Collector):
    def __init__(self, samples: list[Sample]) -> None:
        self.samples = samples

    def collect(self) -> Iterator[Metric]:
        families: dict[str, GaugeMetricFamily] = {}
        for sample in self.samples:
            family = families.get(sample.name)
            if family is None:
                labels = [name for name, _ in sample.labels]
                family = families[sample.name] = GaugeMetricFamily(sample.name, sample.help, labels=labels)
            family.add_metric([value for _, value in sample.labels], sample.value)
        yield from families.values()


@router.get(
    "/metrics",
    response_class=Response,
    responses={**responses(401, 403), 200: {"content": {CONTENT_TYPE_LATEST: {}}}},
)
def metrics(session: ReadSession, _: MetricsReader) -> Response:
    """Prometheus metrics: messages waiting and failed, unacknowledged and open incidents, alerts not
    resolved, active tourists, periodic tasks, and this process's CPU and memory. For admin accounts and
    the ``SAFESPHERE_METRICS_TOKEN`` bearer token."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Snapshot(service.snapshot(session=session)))
    ProcessCollector(registry=registry)
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)
