"""The one place that reads configuration: environment variables prefixed ``SAFESPHERE_`` and ``.env``."""

from __future__ import annotations

from functools import cached_property
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from safesphere.scoring.assessment import validate_weights
from safesphere.scoring.constants import (
    DEFAULT_WEIGHTS,
    HISTORY_WINDOW,
    MAX_GROUND_SPEED_KMH,
    TOURIST_HISTORY_WINDOW,
)

KIB = 1024
MIB = 1024 * KIB
MIN_RETENTION_DAYS = max(HISTORY_WINDOW, TOURIST_HISTORY_WINDOW).days
"""Scores read 30 days of alerts and of the tourist's own fixes: nothing younger may be deleted."""


class Settings(BaseSettings):
    """Every setting SafeSphere reads, with its default. See the README's configuration table."""

    model_config = SettingsConfigDict(
        env_prefix="SAFESPHERE_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    data_dir: Path = Field(default=Path("data"), description="Database, evidence and secrets live here.")
    database_url: str | None = Field(
        default=None, description="SQLAlchemy URL; default is SQLite at <data_dir>/safesphere.db."
    )
    sqlite_busy_timeout_ms: int = Field(
        default=30_000, ge=0, description="How long a SQLite writer waits for the lock."
    )
    sqlite_synchronous: str = Field(
        default="FULL",
        pattern="^(OFF|NORMAL|FULL|EXTRA)$",
        description="SQLite durability; FULL survives power loss.",
    )
    db_pool_timeout_s: float = Field(
        default=3.0,
        gt=0,
        description="How long a request waits for a database connection before it gets a 503 with "
        "Retry-After (the pool itself is sized from route_threads: see core.db.pool_size).",
    )

    jwt_secret: str | None = Field(
        default=None, description="HS256 signing secret; generated once into <data_dir> when unset."
    )
    field_encryption_key: SecretStr | None = Field(
        default=None,
        description="Fernet key (32 url-safe base64 bytes) encrypting emergency contacts' phone and e-mail "
        "at rest; generated once into <data_dir>/field_key (0600) when unset. Losing it loses those fields.",
    )
    jwt_issuer: str = Field(
        default="safesphere", description="The iss claim of tokens, checked on every request."
    )
    access_token_ttl_s: int = Field(default=3600, ge=60, description="Access token lifetime.")
    login_max_failures: int = Field(
        default=5,
        ge=1,
        description="Wrong passwords for one account from one client address within the window before "
        "that pair must wait login_lockout_s (429 with Retry-After).",
    )
    login_max_failures_per_address: int = Field(
        default=50, ge=1, description="Failed logins from one client address, any accounts, before it waits."
    )
    login_failure_window_s: int = Field(default=900, ge=1, description="The window failed logins count in.")
    login_lockout_s: int = Field(default=900, ge=1, description="How long a throttled login waits.")
    metrics_token: SecretStr | None = Field(
        default=None,
        description="Bearer token a Prometheus scraper sends for GET /metrics (admin accounts may always "
        "read it); unset, only admins can.",
    )
    tls_certfile: Path | None = Field(
        default=None, description="PEM certificate (chain) for HTTPS; serve speaks HTTPS when it is set."
    )
    tls_keyfile: Path | None = Field(default=None, description="PEM private key of tls_certfile.")
    forwarded_allow_ips: str = Field(
        default="",
        description="Reverse proxies (comma-separated IPs or networks, or *) whose X-Forwarded-For and "
        "X-Forwarded-Proto are believed: the client address login throttling counts. Empty (the default): "
        "no proxy is, so a local client cannot pose as many by rotating X-Forwarded-For.",
    )

    default_timezone: str = Field(default="UTC", description="Zone a naive report timestamp is read in.")
    clock_skew_tolerance_s: float = Field(
        default=120.0,
        ge=0,
        description="How far a device's clock may run ahead of the server's: an event time further ahead "
        "is used as the receipt time, and a score counts events up to this much after its fix.",
    )
    owner_fix_max_age_s: float = Field(
        default=600.0,
        ge=0,
        description="A report without coordinates from a key bound to an owner is placed at the owner's "
        "latest fix when it is at most this old.",
    )
    max_telemetry_bytes: int = Field(default=256 * KIB, ge=1, description="Cap on a report's full_telemetry.")
    evidence_store: Literal["directory", "database"] = Field(
        default="directory",
        description="Where evidence bytes are kept: directory (<data_dir>/evidence: one host, or a volume "
        "every instance mounts) or database (streamed in 1 MiB pieces into the evidence_chunks table, which "
        "every instance on the database reads: several hosts on PostgreSQL). Existing evidence stays where "
        "it was stored.",
    )
    max_upload_bytes: int = Field(default=10 * MIB, ge=1, description="Cap on an evidence upload.")
    max_clip_bytes: int = Field(
        default=10 * MIB,
        ge=1,
        description="Cap on an evidence video clip (POST /upload/clip, MP4 or WebM); the request body cap is "
        "the larger of this and SAFESPHERE_MAX_UPLOAD_BYTES.",
    )
    max_concurrent_image_decodes: int = Field(
        default=2,
        ge=1,
        le=64,
        description="Uploaded images verified at once per process; more wait (up to 30 s, then 503). Each "
        "costs at most ~1 MB for a PNG, 3 bytes per pixel for a JPEG and 4 for a WebP (64 MP cap).",
    )
    writer_max_batch: int = Field(
        default=64,
        ge=1,
        le=1000,
        description="Threat reports and location fixes committed together in one transaction by the "
        "process's writer (group commit: one lock hand-over and one fsync per batch; each is answered "
        "after its batch is durable). 1 = one transaction per request. Also how many of them wait for the "
        "writer at once; the others wait in admission, so another write queued behind them waits for at "
        "most one batch.",
    )
    route_threads: int = Field(
        default=8, ge=1, description="Threads running routes per process (anyio's default is 40)."
    )
    max_in_flight_device_writes: int = Field(
        default=64,
        ge=0,
        description="Threat reports and location fixes in flight per process before more get a 503 with "
        "Retry-After (devices retry them; 0 = no limit). A key or tourist with none in flight is still "
        "admitted up to twice this, so others' load never refuses a well-behaved device.",
    )
    device_writes_in_flight_per_client: int = Field(
        default=4,
        ge=0,
        description="Threat reports and location fixes one engine key or tourist may have in flight per "
        "process; more get a 429 with Retry-After (0 = no limit).",
    )
    device_writes_per_s: float = Field(
        default=10.0,
        ge=0,
        description="Threat reports and location fixes one engine key or tourist may send per second per "
        "process (a token bucket); more get a 429 with Retry-After (0 = no limit).",
    )
    device_write_burst: int = Field(
        default=30,
        ge=1,
        description="How many device writes one engine key or tourist may send at once before "
        "device_writes_per_s applies (a spool replaying after an outage).",
    )
    unverified_key_checks: int = Field(
        default=4,
        ge=1,
        description="Device writes with an engine key not seen yet that may wait for its database check at "
        "once per process; more get a 503 with Retry-After (a bogus-key flood costs no more than this).",
    )
    request_body_timeout_s: float = Field(
        default=10.0,
        gt=0,
        description="A request body must have fully arrived this long after its headers, or the answer is "
        "a 408 and the connection is closed (a 10 MB upload needs 1 MB/s).",
    )
    request_header_timeout_s: float = Field(
        default=10.0,
        gt=0,
        description="A connection must send a request's complete headers this long after it opens (or "
        "after the request's first byte), or it is closed (safesphere serve only).",
    )
    protocol_file: Path | None = Field(
        default=None, description="TOML or YAML file overriding the response protocol table."
    )

    # --- tourist safety ---
    scoring_weights: dict[str, float] = Field(
        default_factory=lambda: dict(DEFAULT_WEIGHTS),
        description="The six factor weights (JSON object); validated to sum to 1 at start-up.",
    )
    anomaly_alert_threshold: float = Field(
        default=50.0, ge=0, le=100, description="A location score below this raises an anomaly alert."
    )
    anomaly_alert_cooldown_s: int = Field(
        default=1800, ge=0, description="At most one anomaly alert per tourist this often, unless worse."
    )
    max_fix_future_s: int = Field(default=300, ge=0, description="How far ahead of now a fix may be dated.")
    max_ground_speed_kmh: float = Field(
        default=MAX_GROUND_SPEED_KMH,
        gt=0,
        description="The fastest plausible ground travel (high-speed rail); a faster move is a broken fix.",
    )
    rescore_interval_s: int = Field(
        default=300, ge=0, description="Background rescoring period in seconds; 0 switches it off."
    )
    rescore_hours_back: float = Field(
        default=1.0, gt=0, description="How far back each rescoring pass reaches."
    )

    # --- places ---
    routing_url: str | None = Field(
        default=None, description="Base URL of an OSRM-compatible routing service for walking routes."
    )
    routing_timeout_s: float = Field(default=3.0, gt=0, description="How long a route to the police waits.")

    # --- notify (delivery of alerts) ---
    delivery_worker_enabled: bool = Field(default=True, description="Run the delivery worker in the server.")
    delivery_poll_interval_s: float = Field(
        default=1.0, gt=0, description="How often other processes' rows are looked for."
    )
    delivery_round_interval_s: float = Field(
        default=0.025,
        ge=0,
        description="The longest the delivery worker of a busy process rests between rounds (four times "
        "a round's own database work, so that what commits meanwhile goes out in one round: a round "
        "costs two transactions however many it sends); an idle process's worker sends at once.",
    )
    delivery_max_attempts: int = Field(default=8, ge=1, description="Attempts before a delivery is failed.")
    delivery_backoff_base_s: float = Field(
        default=1.0, gt=0, description="First retry delay ceiling (doubles)."
    )
    delivery_backoff_max_s: float = Field(
        default=300.0, gt=0, description="The longest wait between retries."
    )
    delivery_lease_s: float | None = Field(
        default=None,
        gt=0,
        description="A claimed delivery whose process died (kill -9) is sent again, under the same "
        "idempotency key, after this long; at least delivery_timeout_s. Unset: delivery_timeout_s plus "
        "5 s for the round's two transactions (a round claims no more than it sends at once).",
    )
    delivery_concurrency: int = Field(default=16, ge=1, description="Deliveries sent at once per process.")
    delivery_timeout_s: float = Field(
        default=5.0, gt=0, description="Timeout of one webhook/SMS/SMTP attempt."
    )
    police_webhook_url: str | None = Field(default=None, description="Police/dispatch webhook (role police).")
    police_webhook_secret: SecretStr | None = Field(
        default=None, description="Standard Webhooks whsec_ secret signing police webhook calls."
    )
    supervisor_webhook_url: str | None = Field(
        default=None, description="Escalation webhook (role supervisor)."
    )
    supervisor_webhook_secret: SecretStr | None = Field(
        default=None, description="Standard Webhooks whsec_ secret signing supervisor webhook calls."
    )
    smtp_host: str | None = Field(default=None, description="SMTP server for e-mail to contacts and users.")
    smtp_port: int = Field(default=587, description="SMTP port.")
    smtp_username: str | None = Field(default=None, description="SMTP login, when the server wants one.")
    smtp_password: SecretStr | None = Field(default=None, description="SMTP password.")
    smtp_from: str = Field(default="safesphere@localhost", description="Sender address of e-mail.")
    smtp_starttls: bool = Field(default=False, description="Upgrade the SMTP connection with STARTTLS.")
    sms_gateway_url: str | None = Field(default=None, description="HTTP SMS gateway for SMS to contacts.")
    sms_gateway_username: str | None = Field(
        default=None, description="Basic-auth user of the SMS gateway (else the token is a bearer token)."
    )
    sms_gateway_token: SecretStr | None = Field(default=None, description="Password (basic) or bearer token.")
    sms_gateway_format: str = Field(
        default="json",
        pattern="^(json|form)$",
        description="How the SMS gateway wants the message: json or form.",
    )
    web_push_subject: str = Field(
        default="mailto:safesphere@localhost",
        pattern=r"^(mailto:|https://)",
        description="The contact push services see in Web Push VAPID tokens (mailto: or https: URL).",
    )
    web_push_allow_http: bool = Field(
        default=False,
        description="Accept plain-http push endpoints (a local test push service); real ones are https.",
    )

    # --- incident response (lifecycle, escalation, share links) ---
    escalation_after_high_s: float = Field(
        default=60.0, gt=0, description="Re-page if a HIGH is unacknowledged."
    )
    escalation_after_critical_s: float = Field(
        default=30.0, gt=0, description="Re-page an unacknowledged CRITICAL incident after this long."
    )
    escalation_rounds: int = Field(
        default=3, ge=0, description="Escalation rounds; round 2 on adds the supervisor."
    )
    escalation_poll_interval_s: float = Field(
        default=1.0, gt=0, description="How often the escalation pass looks for overdue incidents."
    )
    grouping_window_s: float = Field(
        default=120.0,
        ge=0,
        description="Repeated reports from one source this close to its open incident attach to it; 0: off.",
    )
    public_url: str = Field(
        default="http://127.0.0.1:8000", description="Base URL of share links sent to contacts."
    )
    share_grace_s: int = Field(
        default=3600, ge=0, description="A share link works this long after resolution."
    )

    # --- announcements between instances (core/announcements.py) ---
    announcements_listen: bool = Field(
        default=True,
        description="On PostgreSQL, each process listens (LISTEN/NOTIFY, one connection) for the changes "
        "other instances announce, so live streams, the zone index and the delivery worker learn of them "
        "at once; off (or on SQLite, or behind a pooler in transaction mode), they poll.",
    )
    announcements_catch_up_s: float = Field(
        default=10.0,
        gt=0,
        description="While the listener is connected, the live feed and the zone index still look for "
        "changes this often, in case an announcement was lost.",
    )

    # --- live feed (dashboards) ---
    live_poll_interval_s: float = Field(
        default=1.0,
        gt=0,
        description="How often the process's live feed looks for changes when no announcements arrive "
        "(SQLite, or the listener is down); one look serves every open stream.",
    )
    live_overlap_s: float = Field(
        default=5.0,
        ge=0,
        description="Each look reaches this far back, for changes committed late: a change is stamped "
        "before its writer batch commits, so with 0 a look between the two misses it for good.",
    )
    live_stream_s: float = Field(
        default=300.0, gt=0, description="A live stream ends after this long; the client reconnects."
    )
    live_keepalive_s: float = Field(default=15.0, gt=0, description="A comment line this often when idle.")

    # --- dashboard ---
    dashboard_city_lat: float | None = Field(
        default=None, ge=-90, le=90, description="The map's first view when nothing is active (with lon)."
    )
    dashboard_city_lon: float | None = Field(
        default=None, ge=-180, le=180, description="See dashboard_city_lat."
    )
    dashboard_city_radius_km: float = Field(
        default=5.0, gt=0, le=500, description="How much of the city the fallback view shows around it."
    )

    # --- retention (retention/service.py) ---
    retention_fix_days: int = Field(
        default=90,
        ge=0,
        description="Tourists' location fixes are deleted this many days after their time (each "
        "tourist's latest is kept); 0 keeps them forever.",
    )
    retention_closed_days: int = Field(
        default=365,
        ge=0,
        description="Resolved incidents (with their evidence), resolved alerts and finished deliveries "
        "are deleted this many days after they closed; 0 keeps them forever.",
    )
    retention_interval_s: int = Field(
        default=86_400, ge=0, description="How often the server purges (0 = only `safesphere purge`)."
    )

    shutdown_grace_s: int = Field(
        default=10, ge=1, description="On stop, requests still open after this long are cancelled."
    )
    log_level: str = Field(default="INFO", description="Log level: DEBUG, INFO, WARNING or ERROR.")
    log_json: bool = Field(default=False, description="Log one JSON object per line.")
    report_log_per_s: int = Field(
        default=20,
        ge=0,
        description="INFO lines per second for stored threat reports; beyond it reports are counted, and the "
        "next line says how many were left out (0 = a line for every report). Incidents are in the "
        "database and the live feed either way.",
    )

    @field_validator("scoring_weights")
    @classmethod
    def _weights_sum_to_one(cls, value: dict[str, float]) -> dict[str, float]:
        return validate_weights(value)

    @model_validator(mode="after")
    def _certificate_with_its_key(self) -> Settings:
        if (self.tls_certfile is None) != (self.tls_keyfile is None):
            raise ValueError("tls_certfile and tls_keyfile go together: set both for HTTPS, or neither")
        for name in ("tls_certfile", "tls_keyfile"):
            path = getattr(self, name)
            if path is not None and not path.is_file():
                raise ValueError(f"{name} {path} is not a readable file")
        return self

    @model_validator(mode="after")
    def _lease_outlasts_a_send(self) -> Settings:
        if self.delivery_lease_s is not None and self.delivery_lease_s < self.delivery_timeout_s:
            raise ValueError(
                "delivery_lease_s must be at least delivery_timeout_s: a shorter lease runs out while the "
                "send is still in flight, and another process sends the message again"
            )
        return self

    @field_validator("retention_fix_days", "retention_closed_days")
    @classmethod
    def _longer_than_scoring_looks_back(cls, value: int) -> int:
        if 0 < value <= MIN_RETENTION_DAYS:
            raise ValueError(
                f"must be 0 (keep forever) or more than {MIN_RETENTION_DAYS} days: safety scores look "
                f"back {MIN_RETENTION_DAYS} days"
            )
        return value

    @field_validator("default_timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value

    @cached_property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'safesphere.db').resolve()}"

    @property
    def evidence_dir(self) -> Path:
        return self.data_dir / "evidence"

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.default_timezone)

    @property
    def is_sqlite(self) -> bool:
        return self.resolved_database_url.startswith("sqlite")
