"""Recommendations from the factors that pulled a score down, in English, Hindi, Spanish and French."""

from __future__ import annotations

from safesphere.geo import compass_direction
from safesphere.scoring.model import Assessment, ScoringInput, WeightedFactor

LANGUAGES = ("en", "hi", "es", "fr")
DEFAULT_LANGUAGE = "en"
LOW_FACTOR_SCORE = 70.0
"""A factor under this score pulled the result down enough to deserve advice."""
ELEVATED_RISK_LEVELS = ("high", "critical")

TEXTS: dict[str, dict[str, str]] = {
    "leave_zone": {
        "en": "Leave the {zone_type} zone '{zone}' now",
        "hi": "{zone_type} क्षेत्र '{zone}' से अभी बाहर निकलें",
        "es": "Salga ahora de la zona {zone_type} '{zone}'",
        "fr": "Quittez maintenant la zone {zone_type} « {zone} »",
    },
    "avoid_zone": {
        "en": "Avoid moving closer to the {zone_type} zone {meters}m to the {direction}",
        "hi": "{direction} दिशा में {meters} मीटर दूर {zone_type} क्षेत्र के और पास न जाएँ",
        "es": "Evite acercarse a la zona {zone_type} a {meters} m al {direction}",
        "fr": "Évitez de vous approcher de la zone {zone_type} à {meters} m au {direction}",
    },
    "safe_zone": {
        "en": "The safe zone '{zone}' is {meters}m to the {direction}",
        "hi": "सुरक्षित क्षेत्र '{zone}' {direction} दिशा में {meters} मीटर दूर है",
        "es": "La zona segura '{zone}' está a {meters} m al {direction}",
        "fr": "La zone sûre « {zone} » est à {meters} m au {direction}",
    },
    "alerts": {
        "en": "Consider alternative routes away from recent alert locations ({count} nearby, worst: {worst})",
        "hi": "हाल की चेतावनी वाली जगहों से दूर वैकल्पिक रास्ते चुनें ({count} पास में, सबसे गंभीर: {worst})",
        "es": "Considere rutas alternativas lejos de las alertas recientes ({count} cerca, la peor: {worst})",
        "fr": "Envisagez d'autres itinéraires loin des alertes récentes ({count} proches, la pire : {worst})",
    },
    "night": {
        "en": "Avoid walking alone at this hour ({local_time}); prefer a licensed taxi",
        "hi": "इस समय ({local_time}) अकेले पैदल न चलें; लाइसेंसशुदा टैक्सी लें",
        "es": "Evite caminar solo a esta hora ({local_time}); prefiera un taxi con licencia",
        "fr": "Évitez de marcher seul à cette heure ({local_time}) ; préférez un taxi officiel",
    },
    "crowd": {
        "en": "Stay in well-populated tourist areas",
        "hi": "भीड़-भाड़ वाले पर्यटक क्षेत्रों में रहें",
        "es": "Permanezca en zonas turísticas concurridas",
        "fr": "Restez dans les zones touristiques fréquentées",
    },
    "location_jump": {
        "en": "Your position jumped implausibly: check your phone's location",
        "hi": "आपकी स्थिति असंभव रूप से बदली: फ़ोन का लोकेशन जाँचें",
        "es": "Su posición saltó de forma imposible: compruebe la ubicación del teléfono",
        "fr": "Votre position a sauté de façon impossible : vérifiez la localisation du téléphone",
    },
    "speed": {
        "en": "Unusual movement detected: if you are in danger, press SOS",
        "hi": "असामान्य गतिविधि दिखी: खतरे में हों तो SOS दबाएँ",
        "es": "Movimiento inusual detectado: si está en peligro, pulse SOS",
        "fr": "Mouvement inhabituel détecté : si vous êtes en danger, appuyez sur SOS",
    },
    "history": {
        "en": "This area had {count} incidents in the last 30 days: keep valuables out of sight",
        "hi": "इस क्षेत्र में पिछले 30 दिनों में {count} घटनाएँ हुईं: कीमती सामान छिपाकर रखें",
        "es": "Esta zona tuvo {count} incidentes en los últimos 30 días: guarde sus objetos de valor",
        "fr": "Ce secteur a connu {count} incidents en 30 jours : gardez vos objets de valeur hors de vue",
    },
    "contacts": {
        "en": "Keep emergency contacts readily accessible",
        "hi": "आपातकालीन संपर्क आसानी से उपलब्ध रखें",
        "es": "Tenga a mano sus contactos de emergencia",
        "fr": "Gardez vos contacts d'urgence à portée de main",
    },
}

DIRECTIONS: dict[str, dict[str, str]] = {
    "hi": {"north": "उत्तर", "north-east": "उत्तर-पूर्व", "east": "पूर्व", "south-east": "दक्षिण-पूर्व",
           "south": "दक्षिण", "south-west": "दक्षिण-पश्चिम", "west": "पश्चिम", "north-west": "उत्तर-पश्चिम"},
    "es": {"north": "norte", "north-east": "noreste", "east": "este", "south-east": "sureste",
           "south": "sur", "south-west": "suroeste", "west": "oeste", "north-west": "noroeste"},
    "fr": {"north": "nord", "north-east": "nord-est", "east": "est", "south-east": "sud-est",
           "south": "sud", "south-west": "sud-ouest", "west": "ouest", "north-west": "nord-ouest"},
}  # fmt: skip

ZONE_TYPES: dict[str, dict[str, str]] = {
    "hi": {"restricted": "प्रतिबंधित", "risky": "जोखिम भरे"},
    "es": {"restricted": "restringida", "risky": "de riesgo"},
    "fr": {"restricted": "interdite", "risky": "à risque"},
}


def pick_language(preferred: str | None, accept_language: str | None) -> str:
    """The profile's language if supported, else the first supported one in Accept-Language, else English."""
    candidates = [preferred or ""]
    if accept_language:
        ranked = []
        for position, part in enumerate(accept_language.split(",")):
            tag, _, q = part.strip().partition(";q=")
            try:
                weight = float(q) if q else 1.0
            except ValueError:
                weight = 0.0
            ranked.append((-weight, position, tag))
        candidates += [tag for _, _, tag in sorted(ranked)]
    for tag in candidates:
        base = tag.split("-")[0].strip().lower()
        if base in LANGUAGES:
            return base
    return DEFAULT_LANGUAGE


def _say(key: str, language: str, **values: object) -> str:
    direction = values.get("direction")
    if isinstance(direction, str):
        values["direction"] = DIRECTIONS.get(language, {}).get(direction, direction)
    zone_type = values.get("zone_type")
    if isinstance(zone_type, str):
        values["zone_type"] = ZONE_TYPES.get(language, {}).get(zone_type, zone_type)
    return TEXTS[key][language].format(**values)


def _zone_advice(factor: WeightedFactor, language: str) -> list[str]:
    facts = factor.facts
    if "zone" not in facts:
        return []
    if facts.get("inside"):
        return [_say("leave_zone", language, zone_type=facts["zone_type"], zone=facts["zone"])]
    bearing = facts.get("bearing_deg")
    direction = compass_direction(float(bearing)) if isinstance(bearing, int | float) else "north"
    meters = round(float(facts["distance_km"]) * 1000 / 10) * 10  # type: ignore[arg-type]
    return [_say("avoid_zone", language, zone_type=facts["zone_type"], meters=meters, direction=direction)]


def recommend(data: ScoringInput, assessment: Assessment, language: str = DEFAULT_LANGUAGE) -> list[str]:
    """Specific advice for each factor that pulled the score down, most important first."""
    language = language if language in LANGUAGES else DEFAULT_LANGUAGE
    by_name = {f.name: f for f in assessment.factors}
    advice: list[str] = []
    zone = by_name["zone_risk"]
    if zone.score < LOW_FACTOR_SCORE:
        advice += _zone_advice(zone, language)
        safe = [z for z in data.zones if z.type == "safe" and not z.inside and z.bearing_deg is not None]
        if safe:
            nearest = min(safe, key=lambda z: (z.distance_km, z.zone_id))
            advice.append(
                _say(
                    "safe_zone",
                    language,
                    zone=nearest.name,
                    meters=round(nearest.distance_km * 100) * 10,
                    direction=compass_direction(nearest.bearing_deg or 0.0),
                )
            )
    alerts = by_name["nearby_alerts"]
    if alerts.score < LOW_FACTOR_SCORE:
        advice.append(_say("alerts", language, count=alerts.facts["count"], worst=alerts.facts["worst"]))
    if by_name["time_of_day"].score < LOW_FACTOR_SCORE:
        advice.append(_say("night", language, local_time=by_name["time_of_day"].facts["local_time"]))
    if by_name["crowd_density"].score < LOW_FACTOR_SCORE:
        advice.append(_say("crowd", language))
    speed = by_name["speed_anomaly"]
    if speed.score < LOW_FACTOR_SCORE:  # SOS only where movement says danger, never for a broken fix
        advice.append(
            _say("speed" if speed.facts.get("kind") == "sudden_stop" else "location_jump", language)
        )
    history = by_name["historical_risk"]
    if history.score < LOW_FACTOR_SCORE:
        advice.append(_say("history", language, count=history.facts["count"]))
    if assessment.risk_level in ELEVATED_RISK_LEVELS or advice:
        advice.append(_say("contacts", language))
    return advice
