"""``TouristClient``: a tourist's phone talking to SafeSphere (location fixes, safety score, SOS).

It logs in with e-mail and password, keeps the bearer token, logs in again shortly before the token
expires or when the server answers 401, and raises ``ApiError`` / ``ServerUnreachable`` otherwise.
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime
from types import TracebackType
from typing import Any

import httpx

from safesphere.client.delivery import error_detail
from safesphere.client.endpoint import parse_base_url
from safesphere.client.errors import ApiError, ServerUnreachable

DEFAULT_TIMEOUT_S = 10.0
TOKEN_REFRESH_MARGIN_S = 30.0
"""Log in again this long before the token expires, so a request never leaves with a dying token."""


class TouristClient:
    """Thread-safe; one login shared by every thread using the client."""

    def __init__(
        self, base_url: str, email: str, password: str, *, timeout: float = DEFAULT_TIMEOUT_S
    ) -> None:
        self.base_url = parse_base_url(base_url).base_url
        self.email = email
        self._password = password
        self._http = httpx.Client(base_url=self.base_url, timeout=timeout)
        self._lock = threading.Lock()
        self._token: str | None = None
        self._refresh_at = 0.0

    @classmethod
    def register(
        cls,
        base_url: str,
        email: str,
        password: str,
        *,
        name: str | None = None,
        timeout: float = DEFAULT_TIMEOUT_S,
    ) -> TouristClient:
        """Create the tourist account (``POST /auth/register``), or reuse it if it exists, and log in."""
        client = cls(base_url, email, password, timeout=timeout)
        try:
            body: dict[str, Any] = {"email": email, "password": password}
            if name is not None:
                body["name"] = name
            response = client._send("POST", "/auth/register", json=body)
            if response.status_code not in (201, 409):
                raise ApiError(response.status_code, error_detail(response))
            client.login()
        except BaseException:
            client.close()
            raise
        return client

    def __enter__(self) -> TouristClient:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    def login(self) -> None:
        """``POST /auth/login``; raises ``ApiError`` (401) when the e-mail or password is wrong."""
        with self._lock:
            self._login_locked()

    def me(self) -> dict[str, Any]:
        """``GET /auth/me``: the tourist's own account."""
        return self._json("GET", "/auth/me")

    def update_location(
        self,
        lat: float,
        lon: float,
        *,
        altitude: float | None = None,
        speed: float | None = None,
        accuracy: float | None = None,
        timestamp: datetime | str | None = None,
    ) -> dict[str, Any]:
        """``POST /location/update``: the fix's safety score, factors, recommendations and any alert."""
        when = timestamp or datetime.now(UTC)
        body: dict[str, Any] = {"lat": lat, "lon": lon, "timestamp": _iso(when)}
        for key, value in (("altitude", altitude), ("speed", speed), ("accuracy", accuracy)):
            if value is not None:
                body[key] = value
        return self._json("POST", "/location/update", json=body)

    def sos(
        self, lat: float | None = None, lon: float | None = None, message: str | None = None
    ) -> dict[str, Any]:
        """``POST /sos``: raise a critical SOS alert here (or at the latest fix when no position is given)."""
        body = {
            key: value
            for key, value in (("lat", lat), ("lon", lon), ("message", message))
            if value is not None
        }
        return self._json("POST", "/sos", json=body or None)

    def safety_score(self) -> dict[str, Any]:
        """``GET /safety/score``: ``{safety_score, risk_level, last_updated}``."""
        return self._json("GET", "/safety/score")

    def safety_analysis(self) -> dict[str, Any]:
        return self._json("GET", "/location/safety-analysis")

    def safety_trend(self, hours_back: int = 24) -> dict[str, Any]:
        return self._json("GET", "/location/safety-trend", params={"hours_back": hours_back})

    def nearby_risks(self, radius_km: float = 2.0) -> dict[str, Any]:
        return self._json("GET", "/location/nearby-risks", params={"radius_km": radius_km})

    def history(self, limit: int = 100) -> list[dict[str, Any]]:
        history: list[dict[str, Any]] = self._call("GET", "/location/history", params={"limit": limit})
        return history

    def _json(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        body: dict[str, Any] = self._call(method, path, **kwargs)
        return body

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        """Send with the current token; on 401 log in once more and resend (the token may have expired)."""
        token = self._valid_token()
        response = self._send(method, path, headers={"Authorization": f"Bearer {token}"}, **kwargs)
        if response.status_code == 401:
            token = self._valid_token(stale=token)
            response = self._send(method, path, headers={"Authorization": f"Bearer {token}"}, **kwargs)
        if response.is_error:
            raise ApiError(response.status_code, error_detail(response))
        return response.json()

    def _valid_token(self, *, stale: str | None = None) -> str:
        with self._lock:
            expired = time.monotonic() >= self._refresh_at
            if self._token is None or expired or self._token == stale:
                return self._login_locked()
            return self._token

    def _login_locked(self) -> str:
        response = self._send("POST", "/auth/login", json={"email": self.email, "password": self._password})
        if response.status_code != 200:
            raise ApiError(response.status_code, error_detail(response))
        issued = response.json()
        token = str(issued["access_token"])
        self._token = token
        self._refresh_at = time.monotonic() + float(issued["expires_in"]) - TOKEN_REFRESH_MARGIN_S
        return token

    def _send(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        try:
            return self._http.request(method, path, **kwargs)
        except httpx.RequestError as exc:
            raise ServerUnreachable(f"{method} {path}: {type(exc).__name__}: {exc}") from exc


def _iso(value: datetime | str) -> str:
    if isinstance(value, str):
        return value
    return (value if value.tzinfo else value.replace(tzinfo=UTC)).isoformat()
