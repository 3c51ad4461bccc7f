"""Property (issue 15 item 6): a nearby warning is a copy of an incident addressed to one tourist, so adding
one never changes anyone's score (the warned tourist's, or anybody else's) nor the nearby-risks list and
totals, whatever alerts are around, on the real database and queries. Each example's rows are rolled back."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from sqlalchemy.orm import Session

from safesphere.alerts.models import Alert
from safesphere.core import clock
from safesphere.core.config import Settings
from safesphere.core.db import Database
from safesphere.scoring.model import Fix
from safesphere.tracking import assessor
from safesphere.tracking import service as tracking_service
from safesphere.zones.spatial_index import ZoneIndex
from tests.factories import Factory
from tests.tracking.fixtures import SPOT, send_fix

NOW = datetime(2026, 11, 20, 11, 0, tzinfo=UTC)
SEVERITIES = ("low", "medium", "high", "critical")


def _alert(**fields: Any) -> Alert:
    return Alert(title="seeded", description="seeded", **fields)


def alerts_around(tourist_ids: list[int]) -> st.SearchStrategy[dict[str, Any]]:
    """An alert's columns: somewhere within ~2.5 km, in the last 8 hours, of any counted or uncounted kind."""
    return st.fixed_dictionaries(
        {
            "type": st.sampled_from(("incident", "sos", "curfew", "anomaly")),
            "severity": st.sampled_from(SEVERITIES),
            "latitude": st.floats(-0.02, 0.02).map(lambda d: SPOT[0] + d),
            "longitude": st.floats(-0.03, 0.03).map(lambda d: SPOT[1] + d),
            "occurred_at": st.integers(-480, 3).map(lambda m: NOW + timedelta(minutes=m)),
            "status": st.sampled_from(("open", "acknowledged", "resolved", "false_alarm")),
            "tourist_id": st.none() | st.sampled_from(tourist_ids),
            "incident_id": st.none() | st.sampled_from(("INC_A", "INC_B")),
        }
    )


def _observe(
    session: Session, settings: Settings, zone_index: ZoneIndex, tourist_ids: list[int]
) -> list[Any]:
    """Every tourist's assessment at the spot and their nearby-risks list and totals."""
    seen: list[Any] = []
    for tourist_id in tourist_ids:
        scored = assessor.score_fix(
            session=session, settings=settings, zone_index=zone_index, tourist_id=tourist_id,
            fix=Fix(SPOT[0], SPOT[1], NOW, None, 10.0), received_at=NOW + timedelta(minutes=5),
        )  # fmt: skip
        risks = tracking_service.nearby_risks(
            session=session, zone_index=zone_index, tourist_id=tourist_id, radius_km=2.0
        )
        listed = sorted((a.id, a.type, a.severity, a.report_count, round(d, 9)) for a, d in risks.alerts)
        totals = [len(listed), *(sum(1 for row in listed if row[2] == s) for s in SEVERITIES)]
        seen += [scored.assessment, listed, totals]
    return seen


def test_adding_a_nearby_warning_never_changes_a_score_or_nearby_risks(
    client: TestClient, factory: Factory, db: Database, settings: Settings
) -> None:
    tourists = [factory.tourist() for _ in range(3)]
    ids = [t.user.id for t in tourists]
    with clock.frozen(NOW):
        for n, tourist in enumerate(tourists):
            send_fix(client, tourist, NOW - timedelta(minutes=1), lat=SPOT[0] + 0.001 * n)
    zone_index = ZoneIndex()

    @hypothesis_settings(max_examples=25, deadline=None)
    @given(
        around=st.lists(alerts_around(ids), max_size=6),
        warning=alerts_around(ids).map(lambda a: {**a, "type": "warning", "status": "open"}),
        warned=st.sampled_from(ids),
    )
    def adding_a_warning_changes_nothing(
        around: list[dict[str, Any]], warning: dict[str, Any], warned: int
    ) -> None:
        with db.session() as session:  # never committed: rolled back at the end of the example
            zone_index.refresh_if_changed(session)
            session.add_all([_alert(**row, created_at=NOW) for row in around])
            session.flush()
            before = _observe(session, settings, zone_index, ids)
            session.add(_alert(**{**warning, "tourist_id": warned}, created_at=NOW))
            session.flush()
            after = _observe(session, settings, zone_index, ids)
            session.rollback()
        assert after == before

    adding_a_warning_changes_nothing()
