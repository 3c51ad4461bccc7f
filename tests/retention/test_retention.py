"""Data retention: old fixes, closed incidents with their evidence, resolved alerts and finished deliveries
are deleted after their periods; anything open, recent or still pointed at is kept."""

from __future__ import annotations

import io
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from PIL import Image
from pydantic import ValidationError
from typer.testing import CliRunner

from safesphere.alerts.models import Alert
from safesphere.app import create_app
from safesphere.cli import app as cli
from safesphere.core import clock
from safesphere.core.config import Settings
from safesphere.core.db import Database
from safesphere.evidence.models import Evidence
from safesphere.incidents.models import Incident, IncidentAction, IncidentAlert, IncidentEvent
from safesphere.notify.models import Delivery
from safesphere.retention.service import purge
from safesphere.tracking.models import LocationFix, TouristStatus
from tests.factories import Account, Factory
from tests.incidents.reports import report_body
from tests.support.live import settings_env

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
LONG_AGO = NOW - timedelta(days=400)
MONTHS_AGO = NOW - timedelta(days=100)
RECENTLY = NOW - timedelta(days=10)


@pytest.fixture
def settings_overrides() -> dict[str, object]:
    # No escalation pass in the background: it would re-page the open incidents dated long ago between a
    # test's count of their pages and its check.
    return {"retention_fix_days": 90, "retention_closed_days": 365, "escalation_rounds": 0}


def _fix(client: TestClient, tourist: Account, at: datetime, lat: float = 48.137) -> None:
    body = {"lat": lat, "lon": 11.575, "timestamp": at.isoformat()}
    with clock.frozen(at):
        response = client.post("/location/update", json=body, headers=tourist.headers)
    assert response.status_code == 200, response.text


def _count(db: Database, model: Any, *where: Any) -> int:
    with db.read_session() as session:
        return session.scalar(sa.select(sa.func.count()).select_from(model).where(*where)) or 0


def _png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (32, 24), "red").save(buffer, "PNG")
    return buffer.getvalue()


def _incident(
    client: TestClient, factory: Factory, *, at: datetime, resolve: bool, evidence: bool = False
) -> str:
    engine = factory.engine_key()
    with clock.frozen(at):
        body = report_body(timestamp=at.isoformat())
        assert client.post("/threats/report", json=body, headers=engine.headers).status_code == 200
        if evidence:
            files = {"file": ("shot.png", _png(), "image/png")}
            data = {"incident_id": body["incident_id"]}
            upload = client.post("/upload/screenshot", data=data, files=files, headers=engine.headers)
            assert upload.status_code == 200, upload.text
    if resolve:
        with clock.frozen(at + timedelta(hours=1)):
            officer = factory.authority()
            path = f"/incidents/{body['incident_id']}/resolve"
            done = client.post(path, json={"outcome": "resolved"}, headers=officer.headers)
            assert done.status_code == 200, done.text
    return str(body["incident_id"])


def test_old_fixes_go_but_each_tourists_latest_and_recent_ones_stay(
    client: TestClient, factory: Factory, db: Database, settings: Settings
) -> None:
    active, gone_quiet = factory.tourist(), factory.tourist()
    for n, at in enumerate((MONTHS_AGO, MONTHS_AGO + timedelta(minutes=5), RECENTLY)):
        _fix(client, active, at, lat=48.137 + n / 1000)
    _fix(client, gone_quiet, MONTHS_AGO)
    _fix(client, gone_quiet, MONTHS_AGO + timedelta(minutes=5))

    with clock.frozen(NOW):
        purged = purge(database=db, settings=settings, batch=1)  # one row per transaction: many batches

    assert purged.fixes == 3
    with db.read_session() as session:
        kept = session.execute(sa.select(LocationFix.tourist_id, LocationFix.timestamp)).all()
        statuses = {s.tourist_id: s for s in session.scalars(sa.select(TouristStatus))}
    assert sorted(kept) == sorted(
        [(active.user.id, RECENTLY), (gone_quiet.user.id, MONTHS_AGO + timedelta(minutes=5))]
    )
    assert statuses[gone_quiet.user.id].last_seen == MONTHS_AGO + timedelta(minutes=5)  # status intact
    with clock.frozen(NOW):
        history = client.get("/location/history", headers=active.headers)
    assert [fix["timestamp"][:10] for fix in history.json()] == [RECENTLY.date().isoformat()]


def test_closed_incidents_go_with_their_records_and_evidence_files_open_ones_stay(
    client: TestClient, factory: Factory, db: Database, settings: Settings
) -> None:
    old_closed = _incident(client, factory, at=LONG_AGO, resolve=True, evidence=True)
    old_open = _incident(client, factory, at=LONG_AGO, resolve=False)
    recent_closed = _incident(client, factory, at=RECENTLY, resolve=True)
    files = list(settings.evidence_dir.rglob("*.png"))
    assert len(files) == 1
    records = (IncidentAction, IncidentAlert, IncidentEvent, Evidence)
    assert all(_count(db, model, model.incident_id == old_closed) > 0 for model in records)

    with clock.frozen(NOW):
        purged = purge(database=db, settings=settings)

    assert (purged.incidents, purged.evidence_files, purged.missing_files) == (1, 1, [])
    assert not files[0].exists()
    assert not files[0].parent.exists()  # the incident's evidence folder too
    assert all(_count(db, model, model.incident_id == old_closed) == 0 for model in records)
    with db.read_session() as session:
        assert set(session.scalars(sa.select(Incident.incident_id))) == {old_open, recent_closed}
    officer = factory.authority()
    assert client.get(f"/incidents/{old_closed}", headers=officer.headers).status_code == 404
    assert client.get(f"/incidents/{old_open}", headers=officer.headers).status_code == 200


def test_resolved_alerts_and_finished_deliveries_go_open_and_pending_ones_stay(
    client: TestClient, factory: Factory, db: Database, settings: Settings
) -> None:
    resolved, still_open = factory.tourist(), factory.tourist()
    alert_ids = {}
    for tourist in (resolved, still_open):
        _fix(client, tourist, LONG_AGO)
        with clock.frozen(LONG_AGO):
            sos = client.post("/sos", headers=tourist.headers)
        assert sos.status_code == 201, sos.text
        alert_ids[tourist.user.id] = sos.json()["alert_id"]
    with clock.frozen(LONG_AGO + timedelta(hours=1)):
        officer = factory.authority()
        closing = client.post(
            f"/alerts/{alert_ids[resolved.user.id]}/resolve", json={"notes": "found"}, headers=officer.headers
        )
        assert closing.status_code == 200, closing.text
    incident = _incident(client, factory, at=LONG_AGO, resolve=False)
    with db.session() as session:
        deliveries = list(session.scalars(sa.select(Delivery.id).where(Delivery.incident_id == incident)))
        assert len(deliveries) >= 2
        sent = sa.update(Delivery).where(Delivery.id == deliveries[0])
        session.execute(sent.values(status="sent", sent_at=LONG_AGO))
        session.commit()

    with clock.frozen(NOW):
        purged = purge(database=db, settings=settings)

    assert (purged.alerts, purged.deliveries) == (1, 1)
    with db.read_session() as session:
        assert set(session.scalars(sa.select(Alert.id))) == {alert_ids[still_open.user.id]}
        kept = set(session.scalars(sa.select(Delivery.id).where(Delivery.incident_id == incident)))
    assert kept == set(deliveries[1:])  # pending ones are kept however old


def test_nothing_is_deleted_when_retention_is_off(
    client: TestClient, factory: Factory, db: Database, settings: Settings
) -> None:
    tourist = factory.tourist()
    _fix(client, tourist, MONTHS_AGO)
    _fix(client, tourist, MONTHS_AGO + timedelta(minutes=1))
    _incident(client, factory, at=LONG_AGO, resolve=True)
    forever = settings.model_copy(update={"retention_fix_days": 0, "retention_closed_days": 0})
    with clock.frozen(NOW):
        assert purge(database=db, settings=forever).total == 0
    assert _count(db, LocationFix) == 2
    assert _count(db, Incident) == 1


@pytest.mark.parametrize("field", ["retention_fix_days", "retention_closed_days"])
def test_a_period_shorter_than_scoring_looks_back_is_refused(field: str) -> None:
    with pytest.raises(ValidationError, match="more than 30 days") as refused:
        Settings(**{field: 30})  # type: ignore[arg-type]
    assert refused.value.errors()[0]["loc"] == (field,)
    assert getattr(Settings(**{field: 31}), field) == 31  # type: ignore[arg-type]
    assert getattr(Settings(**{field: 0}), field) == 0  # type: ignore[arg-type]


def test_the_purge_command_reports_what_it_deleted(
    client: TestClient, factory: Factory, db: Database, settings: Settings
) -> None:
    today = datetime.now(UTC)  # the command purges as of the real now
    tourist = factory.tourist()
    _fix(client, tourist, today - timedelta(days=100))
    _fix(client, tourist, today - timedelta(days=10))
    _incident(client, factory, at=today - timedelta(days=400), resolve=True)

    result = CliRunner().invoke(cli, ["purge"], env=settings_env(settings))

    assert result.exit_code == 0, result.output
    assert "Deleted 1 location fixes, 1 incidents (0 evidence files), 0 alerts and" in result.output
    assert _count(db, LocationFix) == 1


def test_the_server_purges_in_the_background(
    client: TestClient, factory: Factory, db: Database, settings: Settings
) -> None:
    today = datetime.now(UTC)  # the server purges as of the real now
    tourist = factory.tourist()
    _fix(client, tourist, today - timedelta(days=100))
    _fix(client, tourist, today - timedelta(minutes=1))
    assert _count(db, LocationFix) == 2

    purging = settings.model_copy(update={"retention_interval_s": 3600})
    with TestClient(create_app(purging)):
        deadline = time.monotonic() + 20
        while _count(db, LocationFix) == 2 and time.monotonic() < deadline:
            time.sleep(0.05)
    assert _count(db, LocationFix) == 1  # the first period runs at start-up; later ones once a period
