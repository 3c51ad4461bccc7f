"""Every table, imported in one place so Alembic and the tests see the whole schema."""

from __future__ import annotations

from safesphere.auth import models as auth_models
from safesphere.core.db import Base
from safesphere.places import models as places_models

metadata = Base.metadata

__all__ = ["auth_models", "metadata", "places_models"]
