"""Every table, imported in one place so Alembic and the tests see the whole schema."""

from __future__ import annotations

from safesphere.alerts import models as alert_models
from safesphere.audit import models as audit_models
from safesphere.auth import models as auth_models
from safesphere.core import periodic as periodic_models
from safesphere.core.db import Base
from safesphere.devices import models as device_models
from safesphere.evidence import models as evidence_models
from safesphere.incidents import models as incident_models
from safesphere.notify import models as notify_models
from safesphere.places import models as places_models
from safesphere.tracking import models as tracking_models
from safesphere.units import models as unit_models
from safesphere.zones import models as zone_models

metadata = Base.metadata

__all__ = [
    "alert_models",
    "audit_models",
    "auth_models",
    "device_models",
    "evidence_models",
    "incident_models",
    "metadata",
    "notify_models",
    "periodic_models",
    "places_models",
    "tracking_models",
    "unit_models",
    "zone_models",
]
