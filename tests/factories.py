"""Small factory functions that build data through the real services."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

from fastapi.testclient import TestClient

from safesphere.auth import service as auth_service
from safesphere.auth.models import Role, User
from safesphere.core.db import Database

PASSWORD = "correct-horse-battery"
_counter = itertools.count(1)


@dataclass
class Account:
    user: User
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


@dataclass
class EngineCredentials:
    name: str
    key: str
    key_id: int

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.key}"}


@dataclass
class Factory:
    client: TestClient
    db: Database
    _accounts: dict[str, Account] = field(default_factory=dict)

    def user(
        self, role: Role | str = Role.tourist, *, email: str | None = None, name: str | None = None
    ) -> Account:
        """A new account of ``role`` with a valid token."""
        role = Role(role)
        email = email or f"{role.value}{next(_counter)}@example.com"
        with self.db.session() as session:
            user = auth_service.create_user(
                session=session, email=email, password=PASSWORD, role=role, name=name
            )
        response = self.client.post("/auth/login", json={"email": email, "password": PASSWORD})
        assert response.status_code == 200, response.text
        return Account(user=user, token=response.json()["access_token"])

    def tourist(self, **kwargs: str) -> Account:
        return self.user(Role.tourist, **kwargs)

    def authority(self, **kwargs: str) -> Account:
        return self.user(Role.authority, **kwargs)

    def admin(self, **kwargs: str) -> Account:
        return self.user(Role.admin, **kwargs)

    def engine_key(
        self,
        *,
        name: str | None = None,
        owner: Account | None = None,
        latitude: float | None = None,
        longitude: float | None = None,
    ) -> EngineCredentials:
        name = name or f"cam-{next(_counter):03d}"
        with self.db.session() as session:
            created = auth_service.create_engine_key(
                session=session,
                name=name,
                owner_email=owner.user.email if owner else None,
                latitude=latitude,
                longitude=longitude,
            )
        return EngineCredentials(name=name, key=created.key, key_id=created.record.id)
