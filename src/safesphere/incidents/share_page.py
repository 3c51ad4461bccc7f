"""The small auto-refreshing HTML page behind a live-location share link. Pure: data in, HTML out."""

from __future__ import annotations

from html import escape

from safesphere.incidents.schemas import SharedLocationOut

REFRESH_S = 10
"""The page reloads itself this often: contacts watch it move without touching anything."""
TRACK_SIZE_PX = 320


def _track_svg(location: SharedLocationOut) -> str:
    """The recent track as an SVG polyline, newest point marked (no map tiles, no third-party requests)."""
    points = [(f.lon, f.lat) for f in reversed(location.latest_fixes)]
    if not points:
        return "<p>No position received yet.</p>"
    lons, lats = [p[0] for p in points], [p[1] for p in points]
    span = max(max(lons) - min(lons), max(lats) - min(lats), 1e-4)

    def xy(lon: float, lat: float) -> str:
        x = 10 + (lon - min(lons)) / span * (TRACK_SIZE_PX - 20)
        y = TRACK_SIZE_PX - 10 - (lat - min(lats)) / span * (TRACK_SIZE_PX - 20)
        return f"{x:.1f},{y:.1f}"

    line = " ".join(xy(*p) for p in points)
    last = xy(*points[-1]).split(",")
    return (
        f'<svg width="{TRACK_SIZE_PX}" height="{TRACK_SIZE_PX}" role="img" aria-label="recent track">'
        f'<polyline points="{line}" fill="none" stroke="#555" stroke-width="2"/>'
        f'<circle cx="{last[0]}" cy="{last[1]}" r="6" fill="#d00"/></svg>'
    )


def render(location: SharedLocationOut) -> str:
    latest = location.latest_fixes[0] if location.latest_fixes else None
    if latest is not None:
        where = f"{latest.lat:.5f}, {latest.lon:.5f}"
        osm = f"https://www.openstreetmap.org/?mlat={latest.lat:.6f}&amp;mlon={latest.lon:.6f}#map=17/{latest.lat:.6f}/{latest.lon:.6f}"
        position = (
            f"<p>Last position <strong>{escape(where)}</strong> at {escape(latest.timestamp.isoformat())}"
            f' (<a href="{osm}" rel="noopener noreferrer">open map</a>)</p>'
        )
    else:
        position = "<p>No position received yet.</p>"
    return (
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        f'<meta http-equiv="refresh" content="{REFRESH_S}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<meta name="referrer" content="no-referrer">'
        "<title>SafeSphere live location</title></head><body>"
        f"<h1>Live location</h1><p>{escape(location.threat_level)} threat, incident "
        f"{escape(location.incident_id)} ({escape(location.status)})</p>"
        f"{position}{_track_svg(location)}"
        f"<p>This page refreshes every {REFRESH_S} seconds.</p></body></html>"
    )
