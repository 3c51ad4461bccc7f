"""The auto-refreshing HTML page behind a live-location share link, readable in any phone browser. Pure:
data in, HTML out. The track is drawn here as SVG (no tiles, no scripts, no third-party requests), and
the page runs under a CSP that allows nothing but its own inline style."""

from __future__ import annotations

import base64
import hashlib
from datetime import datetime
from html import escape

from safesphere.incidents.schemas import SharedFixOut, SharedLocationOut

REFRESH_S = 10
"""The page reloads itself this often: contacts watch it move without touching anything."""
TRACK_SIZE_PX = 320
MARGIN_PX = 16

STYLE = (
    "body{font-family:system-ui,sans-serif;margin:1rem;max-width:40rem;line-height:1.4;color:#111}"
    "h1{font-size:1.4rem}.status{font-size:1.1rem}.age{font-weight:bold}"
    "svg{width:100%;max-width:320px;height:auto;border:1px solid #999;background:#f4f4f0}"
    ".note{color:#555;font-size:.9rem}"
)
_STYLE_HASH = base64.b64encode(hashlib.sha256(STYLE.encode()).digest()).decode()
CONTENT_SECURITY_POLICY = (
    f"default-src 'none'; style-src 'sha256-{_STYLE_HASH}'; img-src 'none'; base-uri 'none'; "
    "form-action 'none'; frame-ancestors 'none'"
)
"""Nothing loads but the page itself and its one inline style (pinned by hash): no scripts at all."""
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
}
"""A live position is never cached and the link never leaks as a referrer."""


def wants_html(accept: str | None) -> bool:
    """Whether a request's Accept header asks for a page (a browser) rather than JSON (a program): the
    first of text/html and application/json that it names wins; neither means JSON."""
    if not accept:
        return False
    media = [part.split(";")[0].strip().lower() for part in accept.split(",")]
    html = media.index("text/html") if "text/html" in media else None
    json_at = media.index("application/json") if "application/json" in media else None
    return html is not None and (json_at is None or html < json_at)


def age_text(seconds: float) -> str:
    """How long ago, in the largest whole unit that reads naturally."""
    seconds = max(0, int(seconds))
    if seconds < 90:
        return f"{seconds} s ago"
    if seconds < 90 * 60:
        return f"{round(seconds / 60)} min ago"
    if seconds < 48 * 3600:
        return f"{round(seconds / 3600)} h ago"
    return f"{round(seconds / 86400)} days ago"


def _track_svg(location: SharedLocationOut) -> str:
    """The recent track as an SVG polyline (north up), newest point red, the threat's place a black
    cross."""
    points = [(f.lon, f.lat) for f in reversed(location.latest_fixes)]
    if not points:
        return ""
    spot = location.incident_location
    everything = points + ([(spot["lon"], spot["lat"])] if spot else [])
    lons, lats = [p[0] for p in everything], [p[1] for p in everything]
    span = max(max(lons) - min(lons), max(lats) - min(lats), 1e-4)
    inner = TRACK_SIZE_PX - 2 * MARGIN_PX

    def xy(lon: float, lat: float) -> tuple[float, float]:
        return (
            MARGIN_PX + (lon - min(lons)) / span * inner,
            TRACK_SIZE_PX - MARGIN_PX - (lat - min(lats)) / span * inner,
        )

    line = " ".join(f"{x:.1f},{y:.1f}" for x, y in (xy(*p) for p in points))
    last_x, last_y = xy(*points[-1])
    cross = ""
    if spot:
        cx, cy = xy(spot["lon"], spot["lat"])
        cross = (
            f'<path d="M{cx - 6:.1f},{cy - 6:.1f}L{cx + 6:.1f},{cy + 6:.1f}M{cx - 6:.1f},{cy + 6:.1f}'
            f'L{cx + 6:.1f},{cy - 6:.1f}" stroke="#000" stroke-width="3"/>'
        )
    return (
        f'<svg viewBox="0 0 {TRACK_SIZE_PX} {TRACK_SIZE_PX}" role="img" '
        'aria-label="Recent track, newest position in red">'
        f'<polyline points="{line}" fill="none" stroke="#2a5db0" stroke-width="3"/>{cross}'
        f'<circle cx="{last_x:.1f}" cy="{last_y:.1f}" r="7" fill="#d00" stroke="#fff" stroke-width="2"/>'
        "</svg><p class=note>Recent track (north up); red: latest position"
        + ("; black cross: where the threat was reported" if spot else "")
        + ".</p>"
    )


def _position(latest: SharedFixOut | None, now: datetime) -> str:
    if latest is None:
        return "<p class=status>No position received yet.</p>"
    accuracy = f"within about {latest.accuracy:.0f} m" if latest.accuracy is not None else "accuracy unknown"
    age = age_text((now - latest.timestamp).total_seconds())
    return (
        f"<p class=status>Last seen <span class=age>{escape(age)}"
        f'</span> at <time datetime="{escape(latest.timestamp.isoformat())}">'
        f"{escape(latest.timestamp.strftime('%Y-%m-%d %H:%M:%S UTC'))}</time>.</p>"
        f"<p>Position <strong>{latest.lat:.5f}, {latest.lon:.5f}</strong> ({accuracy}).</p>"
    )


def render(location: SharedLocationOut, now: datetime) -> str:
    latest = location.latest_fixes[0] if location.latest_fixes else None
    return (
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        f'<meta http-equiv="refresh" content="{REFRESH_S}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<meta name="referrer" content="no-referrer">'
        f"<title>SafeSphere live location</title><style>{STYLE}</style></head><body>"
        f"<h1>Live location</h1><p>{escape(location.threat_level)} threat reported, incident "
        f"{escape(location.incident_id)} ({escape(location.status.replace('_', ' '))}).</p>"
        f"{_position(latest, now)}{_track_svg(location)}"
        f"<p class=note>This page refreshes every {REFRESH_S} seconds. In an emergency call the local "
        "emergency number.</p></body></html>"
    )
