"""The tourist's location and safety endpoints, their profile and contacts, and authority monitoring."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Query, Request, status

from safesphere.alerts import service as alerts_service
from safesphere.alerts.models import Alert
from safesphere.alerts.schemas import AlertOut, SosIn
from safesphere.auth.access import AuthorityUser, TouristToken, TouristUser
from safesphere.auth.models import User
from safesphere.core.dependencies import DbSession, ReadSession, SettingsDep
from safesphere.core.errors import responses
from safesphere.core.params import Offset, PathId, parse_bbox
from safesphere.core.writer import WriterDep
from safesphere.scoring.assessment import risk_level
from safesphere.scoring.recommendations import pick_language
from safesphere.tracking import contacts, monitoring, service
from safesphere.tracking.models import EmergencyContact, LocationFix, TouristStatus
from safesphere.tracking.schemas import (
    AiAnalysis,
    AnalysisLocation,
    ContactIn,
    ContactOut,
    CurrentLocation,
    FactorOut,
    HistoryItem,
    LocationIn,
    LocationUpdateOut,
    NearbyAlert,
    NearbyRisksOut,
    NearbyZone,
    Point,
    ProfileIn,
    ProfileOut,
    RiskSummary,
    SafetyAnalysisOut,
    SafetyScoreOut,
    TouristProfileSummary,
    TrendOut,
    TrendPoint,
    TrendStatistics,
)
from safesphere.zones.spatial_index import ZoneIndex

router = APIRouter(tags=["tourist"], responses=responses(401, 403))
authority_router = APIRouter(prefix="/authority", tags=["authority"], responses=responses(401, 403))
NO_LOCATION = responses(n404="No location data found")
AcceptLanguage = Annotated[str | None, Header()]


def _zone_index(request: Request) -> ZoneIndex:
    index: ZoneIndex = request.app.state.zone_index
    return index


def _factors(rows: list[dict[str, object]] | None) -> list[FactorOut]:
    return [FactorOut.model_validate(row) for row in rows or []]


def history_item(fix: LocationFix) -> HistoryItem:
    return HistoryItem(
        id=fix.id, lat=fix.latitude, lon=fix.longitude, speed=fix.speed, altitude=fix.altitude,
        accuracy=fix.accuracy, timestamp=fix.timestamp, safety_score=fix.safety_score,
        safety_score_updated_at=fix.safety_score_updated_at,
    )  # fmt: skip


@router.post("/location/update", response_model=LocationUpdateOut, responses=responses(n422="Invalid fix"))
async def update_location(
    body: LocationIn,
    request: Request,
    writer: WriterDep,
    settings: SettingsDep,
    account: TouristToken,
    accept_language: AcceptLanguage = None,
) -> LocationUpdateOut:
    """Record a location fix and answer with its explained safety score and recommendations, once the fix
    is durable (committed with others by the process's writer)."""
    update = await service.update_location(
        writer=writer, settings=settings, zone_index=_zone_index(request), account=account, location=body
    )
    language = pick_language(update.preferred_language, accept_language)
    return LocationUpdateOut(
        location_id=update.fix_id,
        location_safety_score=update.scored.assessment.location_safety_score,
        tourist_safety_score=update.scored.tourist_safety_score,
        risk_level=update.scored.assessment.risk_level,
        location_risk_level=update.scored.assessment.risk_level,
        tourist_risk_level=risk_level(update.scored.tourist_safety_score),
        ai_analysis=AiAnalysis(
            factors=_factors(update.factors), recommendations=update.scored.recommendations(language)
        ),
        alert_triggered=update.alert is not None,
        alert_id=update.alert.id if update.alert else None,
    )


@router.get("/location/history", response_model=list[HistoryItem])
def location_history(
    session: ReadSession, user: TouristUser, limit: Annotated[int, Query(ge=1, le=1000)] = 100
) -> list[HistoryItem]:
    """The tourist's own fixes with their scores, newest first."""
    return [history_item(f) for f in service.history(session=session, tourist_id=user.id, limit=limit)]


@router.get("/location/safety-trend", response_model=TrendOut)
def safety_trend(
    session: ReadSession, user: TouristUser, hours_back: Annotated[int, Query(ge=1, le=720)] = 24
) -> TrendOut:
    """The tourist's safety score over time, with statistics (volatility = max - min)."""
    fixes = service.trend(session=session, tourist_id=user.id, hours_back=hours_back)
    points = [
        TrendPoint(
            timestamp=f.timestamp,
            safety_score=f.safety_score or 0.0,
            risk_level=f.risk_level or "critical",
            location_risk_level=f.risk_level or "critical",
            location=Point(lat=f.latitude, lon=f.longitude),
        )
        for f in fixes
    ]
    statistics = None
    if points:
        scores = [p.safety_score for p in points]
        statistics = TrendStatistics(
            average_score=round(sum(scores) / len(scores), 2),
            min_score=min(scores),
            max_score=max(scores),
            current_score=fixes[-1].tourist_safety_score or scores[-1],
            score_volatility=round(max(scores) - min(scores), 2),
        )
    return TrendOut(hours_back=hours_back, data_points=len(points), trend=points, statistics=statistics)


@router.get("/location/safety-analysis", response_model=SafetyAnalysisOut, responses=NO_LOCATION)
def safety_analysis(
    request: Request,
    session: ReadSession,
    settings: SettingsDep,
    user: TouristUser,
    accept_language: AcceptLanguage = None,
) -> SafetyAnalysisOut:
    """The latest fix analysed factor by factor, with recommendations."""
    fix, scored, current = service.analyse_latest(
        session=session, settings=settings, zone_index=_zone_index(request), tourist_id=user.id
    )
    factors = [
        FactorOut(name=f.name, score=f.score, weight=f.weight, contribution=f.contribution, details=f.details)
        for f in scored.assessment.factors
    ]
    return SafetyAnalysisOut(
        location=AnalysisLocation(id=fix.id, lat=fix.latitude, lon=fix.longitude, timestamp=fix.timestamp),
        safety_score=scored.assessment.location_safety_score,
        risk_level=scored.assessment.risk_level,
        location_risk_level=scored.assessment.risk_level,
        tourist_risk_level=current.risk_level if current else None,
        factors=factors,
        recommendations=scored.recommendations(pick_language(user.preferred_language, accept_language)),
        tourist_profile=TouristProfileSummary(
            id=user.id,
            overall_safety_score=current.tourist_safety_score if current else None,
            last_seen=current.last_seen if current else None,
        ),
    )


OTHERS_PLACE_DECIMALS = 3
"""Another tourist's alert is shown at about 100 m (3 decimals of a degree), never at their exact fix."""
OTHERS_TITLES = {"sos": ("SOS nearby", "A tourist nearby asked for help. Keep your distance and call "
                         "the police if you see danger.")}  # fmt: skip
"""What a tourist reads of another tourist's alert, by type: no message, name or contact of theirs."""


def _nearby_alert(alert: Alert, distance_km: float, viewer_id: int) -> NearbyAlert:
    """The alert as the viewer may see it: their own in full, another tourist's generic and approximate."""
    if alert.tourist_id is None or alert.tourist_id == viewer_id:
        title, description, lat, lon = alert.title, alert.description, alert.latitude, alert.longitude
    else:
        title, description = OTHERS_TITLES.get(alert.type, ("Alert nearby", "A risk was reported nearby."))
        lat, lon = round(alert.latitude, OTHERS_PLACE_DECIMALS), round(alert.longitude, OTHERS_PLACE_DECIMALS)
        distance_km = round(distance_km, 1)
    return NearbyAlert(
        alert_id=alert.id, type=alert.type, severity=alert.severity, title=title, description=description,
        distance_km=round(distance_km, 2), location=Point(lat=lat, lon=lon), timestamp=alert.occurred_at,
        report_count=alert.report_count,
    )  # fmt: skip


@router.get("/location/nearby-risks", response_model=NearbyRisksOut, responses=NO_LOCATION)
def nearby_risks(
    request: Request,
    session: ReadSession,
    user: TouristUser,
    radius_km: Annotated[float, Query(gt=0, le=50)] = 2.0,
) -> NearbyRisksOut:
    """Open alerts and risky or restricted zones around the tourist's latest fix."""
    found = service.nearby_risks(
        session=session, zone_index=_zone_index(request), tourist_id=user.id, radius_km=radius_km
    )
    alerts = [_nearby_alert(a, d, user.id) for a, d in found.alerts]
    zones = [
        NearbyZone(
            zone_id=z.zone.zone_id, name=z.zone.name, type=z.zone.type, distance_km=round(z.distance_km, 2),
            radius_km=round(z.zone.radius_km, 3), center=Point(lat=z.zone.center_lat, lon=z.zone.center_lon),
            is_inside=z.inside,
        )
        for z in found.zones
    ]  # fmt: skip
    return NearbyRisksOut(
        current_location=CurrentLocation(
            lat=found.fix.latitude,
            lon=found.fix.longitude,
            safety_score=found.fix.safety_score,
            timestamp=found.fix.timestamp,
        ),
        search_radius_km=radius_km,
        nearby_alerts=alerts,
        nearby_risky_zones=zones,
        risk_summary=RiskSummary(
            total_alerts=len(alerts),
            critical_alerts=sum(a.severity == "critical" for a in alerts),
            high_alerts=sum(a.severity == "high" for a in alerts),
            risky_zones_nearby=len(zones),
            inside_risky_zone=any(z.is_inside for z in zones),
        ),
    )


@router.get("/safety/score", response_model=SafetyScoreOut, responses=NO_LOCATION)
def safety_score(session: ReadSession, user: TouristUser) -> SafetyScoreOut:
    """The tourist's current overall safety score."""
    current = service.current_status(session=session, tourist_id=user.id)
    return SafetyScoreOut(
        safety_score=current.tourist_safety_score,
        risk_level=current.risk_level,
        last_updated=current.last_seen,
        location_safety_score=current.location_safety_score,
        location_risk_level=risk_level(current.location_safety_score),
        tourist_risk_level=current.risk_level,
    )


@router.post("/sos", response_model=AlertOut, status_code=status.HTTP_201_CREATED, responses=NO_LOCATION)
def sos(session: DbSession, settings: SettingsDep, user: TouristUser, body: SosIn | None = None) -> AlertOut:
    """Raise a critical SOS alert at once, at the given point or the latest fix; police and the emergency
    contacts are notified through the delivery outbox."""
    body = body or SosIn()
    alert = service.sos(
        session=session,
        settings=settings,
        tourist_id=user.id,
        lat=body.lat,
        lon=body.lon,
        message=body.message,
    )
    return AlertOut.from_alert(alert)


def profile_out(user: User) -> ProfileOut:
    return ProfileOut(
        id=user.id,
        email=user.email,
        name=user.name,
        phone=user.phone,
        preferred_language=user.preferred_language,
    )


def contact_out(row: EmergencyContact) -> ContactOut:
    return ContactOut(
        id=row.id,
        name=row.name,
        relation=row.relation,
        phone=row.phone,
        email=row.email,
        created_at=row.created_at,
    )


@router.get("/me/alerts", response_model=list[AlertOut])
def my_alerts(
    session: ReadSession, user: TouristUser, limit: Annotated[int, Query(ge=1, le=500)] = 50
) -> list[AlertOut]:
    """The tourist's own alerts, newest first: warnings about threats near them, their SOS and anomalies."""
    return [
        AlertOut.from_alert(a)
        for a in alerts_service.list_alerts(session=session, tourist_id=user.id, limit=limit)
    ]


@router.get("/me/profile", response_model=ProfileOut)
def get_profile(user: TouristUser) -> ProfileOut:
    """The tourist's own profile."""
    return profile_out(user)


@router.put("/me/profile", response_model=ProfileOut)
def put_profile(body: ProfileIn, session: DbSession, user: TouristUser) -> ProfileOut:
    """Change name, phone or preferred language (en, hi, es, fr for recommendations)."""
    return profile_out(contacts.update_profile(session=session, user_id=user.id, profile=body))


@router.get("/me/contacts", response_model=list[ContactOut])
def get_contacts(session: ReadSession, user: TouristUser) -> list[ContactOut]:
    """The tourist's emergency contacts."""
    return [contact_out(c) for c in contacts.list_contacts(session=session, user_id=user.id)]


@router.post("/me/contacts", response_model=ContactOut, status_code=status.HTTP_201_CREATED)
def post_contact(body: ContactIn, session: DbSession, user: TouristUser) -> ContactOut:
    """Add an emergency contact (a phone or an email is required)."""
    return contact_out(contacts.add_contact(session=session, user_id=user.id, contact=body))


@router.delete(
    "/me/contacts/{contact_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=responses(n404="Contact not found"),
)
def delete_contact(contact_id: PathId, session: DbSession, user: TouristUser) -> None:
    """Remove one of the tourist's own emergency contacts."""
    contacts.delete_contact(session=session, user_id=user.id, contact_id=contact_id)


def _status_row(user: User, current: TouristStatus) -> dict[str, object]:
    return {
        "tourist_id": user.id,
        "name": user.name,
        "location": {"lat": current.latitude, "lon": current.longitude},
        "location_safety_score": current.location_safety_score,
        "tourist_safety_score": current.tourist_safety_score,
        "risk_level": current.risk_level,
        "location_risk_level": risk_level(current.location_safety_score),
        "tourist_risk_level": current.risk_level,
        "last_seen": current.last_seen.isoformat(),
    }


@authority_router.get("/tourists")
def monitor_tourists(
    session: ReadSession,
    _: AuthorityUser,
    risk_level: Annotated[str | None, Query(pattern="^(low|medium|high|critical)$")] = None,
    bbox: Annotated[str | None, Query(description="min_lon,min_lat,max_lon,max_lat")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Offset = 0,
) -> dict[str, object]:
    """Every tourist's latest position, scores and risk level, worst first."""
    rows = monitoring.list_tourists(
        session=session, risk_level=risk_level, bbox=parse_bbox(bbox), limit=limit, offset=offset
    )
    return {"count": len(rows), "tourists": [_status_row(user, current) for user, current in rows]}


@authority_router.get("/tourists/{tourist_id}", responses=responses(n404="Tourist not found"))
def monitor_tourist(tourist_id: PathId, session: ReadSession, _: AuthorityUser) -> dict[str, object]:
    """One tourist: profile, current status, the fix it was taken from (age, accuracy), emergency contacts
    and recent alerts."""
    detail = monitoring.tourist_detail(session=session, tourist_id=tourist_id)
    return {
        "profile": profile_out(detail.user).model_dump(),
        "status": _status_row(detail.user, detail.status) if detail.status else None,
        "last_fix": history_item(detail.last_fix).model_dump(mode="json") if detail.last_fix else None,
        "contacts": [contact_out(c).model_dump(mode="json") for c in detail.contacts],
        "recent_alerts": [AlertOut.from_alert(a).model_dump(mode="json") for a in detail.alerts],
    }


@authority_router.get("/tourists/{tourist_id}/locations", responses=responses(n404="Tourist not found"))
def monitor_tourist_locations(
    tourist_id: PathId,
    session: ReadSession,
    _: AuthorityUser,
    hours_back: Annotated[int, Query(ge=1, le=720)] = 24,
) -> dict[str, object]:
    """One tourist's fixes in the window, newest first."""
    fixes = monitoring.tourist_track(session=session, tourist_id=tourist_id, hours_back=hours_back)
    return {
        "tourist_id": tourist_id,
        "hours_back": hours_back,
        "locations": [history_item(f).model_dump(mode="json") for f in fixes],
    }
