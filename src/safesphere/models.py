"""Every table, imported in one place so Alembic and the tests see the whole schema."""

from __future__ import annotations

from safesphere.auth import models as auth_models
from safesphere.core.db import Base
from safesphere.evidence import models as evidence_models
from safesphere.incidents import models as incident_models
from safesphere.places import models as places_models

metadata = Base.metadata

__all__ = ["auth_models", "evidence_models", "incident_models", "metadata", "places_models"]
