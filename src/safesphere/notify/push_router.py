"""Web Push for tourists: the server's VAPID public key, and subscribing or unsubscribing a device."""

from __future__ import annotations

from fastapi import APIRouter, status
from pydantic import BaseModel, ConfigDict, Field

from safesphere.auth.access import Public, TouristUser
from safesphere.core.dependencies import DbSession, ReadSession, SettingsDep
from safesphere.core.errors import responses
from safesphere.notify import push
from safesphere.notify.webpush import vapid_key

router = APIRouter(tags=["push"])


class VapidKeyOut(BaseModel):
    public_key: str = Field(description="The applicationServerKey for PushManager.subscribe (base64url).")


class SubscriptionKeys(BaseModel):
    p256dh: str = Field(min_length=1, max_length=200)
    auth: str = Field(min_length=1, max_length=100)


class SubscriptionIn(BaseModel):
    """The browser's ``PushSubscription.toJSON()``."""

    model_config = ConfigDict(extra="ignore")

    endpoint: str = Field(min_length=1, max_length=1000)
    keys: SubscriptionKeys


class UnsubscribeIn(BaseModel):
    endpoint: str = Field(min_length=1, max_length=1000)


class SubscriptionOut(BaseModel):
    id: int
    endpoint: str


@router.get("/push/key", response_model=VapidKeyOut)
def push_key(settings: SettingsDep, _: Public) -> VapidKeyOut:
    """The server's VAPID public key, which browsers subscribe with."""
    return VapidKeyOut(public_key=vapid_key(settings.data_dir).public_key)


@router.post(
    "/me/push-subscriptions",
    response_model=SubscriptionOut,
    status_code=status.HTTP_201_CREATED,
    responses=responses(401, 403, n422="Not a usable subscription"),
)
def subscribe(
    body: SubscriptionIn, session: DbSession, settings: SettingsDep, user: TouristUser
) -> SubscriptionOut:
    """Receive warnings, anomaly alerts and SOS confirmations on this device."""
    row = push.subscribe(
        session=session, settings=settings, user_id=user.id, endpoint=body.endpoint,
        p256dh=body.keys.p256dh, auth=body.keys.auth,
    )  # fmt: skip
    return SubscriptionOut(id=row.id, endpoint=row.endpoint)


@router.get("/me/push-subscriptions", response_model=list[SubscriptionOut], responses=responses(401, 403))
def subscriptions(session: ReadSession, user: TouristUser) -> list[SubscriptionOut]:
    """The tourist's subscribed devices."""
    return [
        SubscriptionOut(id=r.id, endpoint=r.endpoint) for r in push.list_for(session=session, user_id=user.id)
    ]


@router.post(
    "/me/push-subscriptions/remove",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=responses(401, 403, n404="No such subscription"),
)
def unsubscribe(body: UnsubscribeIn, session: DbSession, user: TouristUser) -> None:
    """Stop pushes to a device (by its endpoint, as the browser knows it)."""
    push.unsubscribe(session=session, user_id=user.id, endpoint=body.endpoint)
