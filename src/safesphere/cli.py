"""The ``safesphere`` command: serve, migrate, manage accounts and engine keys."""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Annotated

import httpx
import sqlalchemy as sa
import typer
import uvicorn
from pydantic import ValidationError
from rich.console import Console
from rich.panel import Panel
from rich.table import Table

from safesphere.auth import service as auth_service
from safesphere.auth.models import Role
from safesphere.client.errors import ClientError
from safesphere.core import migrate
from safesphere.core.config import Settings
from safesphere.core.db import Database
from safesphere.core.errors import DomainError
from safesphere.core.files import FILE_MODE, PRIVATE_UMASK, make_private_dir, restrict_tree
from safesphere.incidents.protocol_table import ProtocolFileError, load_protocol

app = typer.Typer(help="SafeSphere: threat incident management and tourist safety.", no_args_is_help=True)
db_app = typer.Typer(help="Database schema migrations.", no_args_is_help=True)
users_app = typer.Typer(help="User accounts.", no_args_is_help=True)
keys_app = typer.Typer(help="Engine API keys.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(users_app, name="users")
app.add_typer(keys_app, name="keys")

console = Console()


def _fail(message: str) -> typer.Exit:
    console.print(f"[red]error:[/red] {message}")
    return typer.Exit(code=1)


def _problems(exc: ValidationError) -> str:
    """``retention_fix_days: must be 0 ...; ...``: each refused setting and why, on one line."""
    parts = []
    for error in exc.errors():
        where = ".".join(map(str, error["loc"]))
        message = error["msg"].removeprefix("Value error, ")
        parts.append(f"{where}: {message}" if where else message)
    return "; ".join(parts)


def _database_label(settings: Settings) -> str:
    return sa.make_url(settings.resolved_database_url).render_as_string(hide_password=True)


def _make_private(settings: Settings) -> list[Path]:
    """The data directory 0700 and its files 0600 (and a SQLite database kept elsewhere): what changed."""
    changed = restrict_tree(settings.data_dir)
    if settings.is_sqlite:
        database = Path(str(sa.make_url(settings.resolved_database_url).database))
        for path in (database, *(database.with_name(database.name + end) for end in ("-wal", "-shm"))):
            if path.is_file() and stat.S_IMODE(path.stat().st_mode) != FILE_MODE:
                path.chmod(FILE_MODE)
                changed.append(path)
    return changed


def _report_private(changed: list[Path]) -> None:
    if changed:
        shown = ", ".join(str(path) for path in changed[:5]) + (" ..." if len(changed) > 5 else "")
        console.print(
            f"[yellow]Made {len(changed)} data paths owner-only (0700/0600):[/yellow] {shown}", soft_wrap=True
        )


def _generated_secrets(settings: Settings) -> list[str]:
    """The secrets that would be generated per host although instances on PostgreSQL must share them."""
    if settings.is_sqlite:
        return []
    unset = {
        "SAFESPHERE_JWT_SECRET": settings.jwt_secret,
        "SAFESPHERE_FIELD_ENCRYPTION_KEY": settings.field_encryption_key,
    }
    return [name for name, value in unset.items() if not value]


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8000,
    workers: Annotated[int, typer.Option(min=1, help="Worker processes.")] = 1,
) -> None:
    """Apply migrations, print the start-up banner and serve the API."""
    try:
        settings = Settings()
    except ValidationError as exc:
        raise _fail(f"Invalid settings: {_problems(exc)}") from exc
    unshared = _generated_secrets(settings)
    if unshared:
        raise _fail(
            f"{' and '.join(unshared)} must be set (the same on every instance) when serving a PostgreSQL "
            "database: a secret generated into one host's data directory differs on every instance sharing "
            "the database, so a token signed by one would be refused by the others (and contacts encrypted "
            "by one unreadable by them)."
        )
    try:
        load_protocol(settings.protocol_file)
    except ProtocolFileError as exc:
        raise _fail(str(exc)) from exc
    os.umask(PRIVATE_UMASK)  # what the server creates from now on is owner-only
    migrate.upgrade(settings)
    make_private_dir(settings.evidence_dir)
    _report_private(_make_private(settings))
    url = f"{'https' if settings.tls_certfile else 'http'}://{host}:{port}"
    console.print(
        Panel.fit(
            f"Database:      {_database_label(settings)}\n"
            f"Evidence dir:  {settings.evidence_dir.resolve()}\n"
            f"API ready at:  {url}\n"
            f"Docs at:       {url}/docs",
            title="SAFESPHERE BACKEND API STARTED",
        )
    )
    uvicorn.run(
        "safesphere.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level=settings.log_level.lower(),
        # Live streams never finish on their own: without a limit a stop would wait for every dashboard.
        timeout_graceful_shutdown=settings.shutdown_grace_s,
        # Behind a proxy every client would otherwise share the proxy's address (and its login throttle).
        proxy_headers=bool(settings.forwarded_allow_ips),
        forwarded_allow_ips=settings.forwarded_allow_ips or None,
        # uvicorn's httptools protocol with a deadline for request headers (slowloris; see the module).
        http="safesphere.core.http_protocol:TimedHeadersProtocol",
        ssl_certfile=settings.tls_certfile,
        ssl_keyfile=settings.tls_keyfile,
    )


@db_app.command("upgrade")
def db_upgrade(revision: Annotated[str, typer.Argument()] = "heads") -> None:
    """Apply migrations up to REVISION (default: the latest)."""
    settings = Settings()
    migrate.upgrade(settings, revision)
    console.print(f"Database {_database_label(settings)} upgraded to {revision}.")


@db_app.command("downgrade")
def db_downgrade(revision: Annotated[str, typer.Argument(help="Target revision, e.g. -1 or base.")]) -> None:
    """Revert migrations down to REVISION."""
    settings = Settings()
    migrate.downgrade(settings, revision)
    console.print(f"Database {_database_label(settings)} downgraded to {revision}.")


@db_app.command("backup")
def db_backup(
    target: Annotated[Path, typer.Argument(help="A new or empty folder for the copy.")],
) -> None:
    """Copy the SQLite database (consistent while the server runs) and the evidence files into TARGET;
    to restore, stop the server and point SAFESPHERE_DATA_DIR at the copy (or copy it back)."""
    from safesphere.core.backup import back_up

    settings = Settings()
    try:
        made = back_up(settings=settings, target=target)
    except DomainError as exc:
        raise _fail(exc.detail) from exc
    console.print(
        f"Backed up {made.database} and {made.evidence_files:,} evidence files "
        f"({made.bytes / 2**20:,.1f} MiB).",
        soft_wrap=True,
    )


def _database() -> Database:
    settings = Settings()
    migrate.upgrade(settings)
    return Database(settings)


@users_app.command("create")
def users_create(
    email: Annotated[str, typer.Option(help="Login e-mail address.")],
    password: Annotated[str, typer.Option(help="Password (at least 8 characters).")],
    role: Annotated[Role, typer.Option(help="tourist, authority or admin.")],
    name: Annotated[str | None, typer.Option(help="Display name.")] = None,
) -> None:
    """Create an account; its id is printed on the last line."""
    from safesphere.auth.schemas import UserCreateIn

    try:
        body = UserCreateIn(email=email, password=password, role=role, name=name)
    except ValidationError as exc:
        raise _fail(_problems(exc)) from exc
    database = _database()
    try:
        with database.session() as session:
            user = auth_service.create_user(
                session=session, email=body.email, password=body.password, role=body.role, name=body.name
            )
    except DomainError as exc:
        raise _fail(exc.detail) from exc
    finally:
        database.dispose()
    console.print(f"Created {user.role} {user.email}")
    print(user.id)


@users_app.command("update")
def users_update(
    email: Annotated[str, typer.Argument(help="The account's e-mail address.")],
    active: Annotated[
        bool | None, typer.Option("--active/--inactive", help="Reactivate, or deactivate (refused at once).")
    ] = None,
    role: Annotated[Role | None, typer.Option(help="tourist, authority or admin.")] = None,
    password: Annotated[str | None, typer.Option(help="A new password (at least 8 characters).")] = None,
) -> None:
    """Change an account (also an admin's own, e.g. one locked out); a role or password change ends its
    sessions."""
    from safesphere.auth.schemas import UserUpdateIn

    try:
        body = UserUpdateIn(is_active=active, role=role, password=password)
    except ValidationError as exc:
        raise _fail(_problems(exc)) from exc
    database = _database()
    try:
        with database.read_session() as session:
            found = auth_service.get_user_by_email(session=session, email=email)
        if found is None:
            raise _fail(f"No account has the e-mail address {email}")
        user = auth_service.update_user(
            database=database,
            admin=None,
            user_id=found.id,
            is_active=body.is_active,
            role=body.role,
            password=body.password,
        )
    finally:
        database.dispose()
    console.print(f"Updated {user.role} {user.email} ({'active' if user.is_active else 'inactive'})")


@users_app.command("list")
def users_list() -> None:
    """List accounts."""
    database = _database()
    with database.read_session() as session:
        users = auth_service.list_users(session=session, limit=10_000)
    database.dispose()
    table = Table("id", "email", "role", "name")
    for user in users:
        table.add_row(str(user.id), user.email, user.role, user.name or "")
    console.print(table)


@keys_app.command("create")
def keys_create(
    name: Annotated[str, typer.Option(help="A unique name, e.g. cam-01.")],
    owner: Annotated[str | None, typer.Option(help="E-mail of the protected person.")] = None,
    lat: Annotated[float | None, typer.Option(help="Fixed camera latitude.")] = None,
    lon: Annotated[float | None, typer.Option(help="Fixed camera longitude.")] = None,
    timezone: Annotated[
        str | None, typer.Option(help="IANA zone of its naive times when it has no fixed place.")
    ] = None,
) -> None:
    """Create an engine API key; the secret is printed alone on the last line, once."""
    from safesphere.auth.schemas import EngineKeyCreateIn

    try:
        body = EngineKeyCreateIn(name=name, owner_email=owner, latitude=lat, longitude=lon, timezone=timezone)
    except ValidationError as exc:
        raise _fail(_problems(exc)) from exc
    database = _database()
    try:
        with database.session() as session:
            created = auth_service.create_engine_key(
                session=session,
                name=body.name,
                owner_email=body.owner_email,
                latitude=body.latitude,
                longitude=body.longitude,
                timezone=body.timezone,
            )
    except DomainError as exc:
        raise _fail(exc.detail) from exc
    finally:
        database.dispose()
    console.print(f"Created engine key {created.record.name} (shown once, store it now):")
    print(created.key)


@keys_app.command("list")
def keys_list() -> None:
    """List engine keys (never their secrets)."""
    database = _database()
    with database.read_session() as session:
        keys = auth_service.list_engine_keys(session=session)
    database.dispose()
    table = Table("name", "prefix", "owner id", "location", "created", "revoked")
    for key in keys:
        where = f"{key.latitude}, {key.longitude}" if key.latitude is not None else ""
        revoked = key.revoked_at.isoformat() if key.revoked_at else ""
        table.add_row(
            key.name, key.key_prefix, str(key.owner_id or ""), where, key.created_at.isoformat(), revoked
        )
    console.print(table)


@keys_app.command("revoke")
def keys_revoke(name: Annotated[str, typer.Argument(help="The key's name.")]) -> None:
    """Revoke an engine key."""
    database = _database()
    try:
        with database.session() as session:
            auth_service.revoke_engine_key(session=session, name=name)
    except DomainError as exc:
        raise _fail(exc.detail) from exc
    finally:
        database.dispose()
    console.print(f"Revoked engine key {name}.")


@app.command()
def simulate(
    url: Annotated[str, typer.Option(help="The running server.")] = "http://127.0.0.1:8000",
    tourists: Annotated[int, typer.Option(min=0, help="Tourists walking the city.")] = 20,
    cameras: Annotated[int, typer.Option(min=0, help="Cameras and phones running threat_cv.")] = 4,
    rate: Annotated[float, typer.Option(min=0.1, help="Events per second, all kinds together.")] = 5.0,
    duration: Annotated[float, typer.Option(min=1, help="Seconds to run.")] = 60.0,
    seed: Annotated[int, typer.Option(help="Same seed, same events and payloads.")] = 1,
    admin_email: Annotated[
        str | None, typer.Option(help="Admin account to create zones, places, keys.")
    ] = None,
    admin_password: Annotated[str | None, typer.Option(help="That admin's password.")] = None,
) -> None:
    """Drive a running server with simulated tourists, cameras and SOS calls, then print a summary."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    from safesphere.simulate import report, runner

    if admin_email is None and admin_password is None:
        admin_email, admin_password = _demo_admin_for(url)
    options = runner.Options(
        base_url=url, tourists=tourists, cameras=cameras, rate=rate, duration_s=duration, seed=seed,
        admin_email=admin_email, admin_password=admin_password,
    )  # fmt: skip
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    with Progress(*columns, console=console) as progress:
        task = progress.add_task("simulating", total=int(rate * duration))

        def on_progress(done: int, stats: runner.Stats) -> None:
            total = stats.total()
            progress.update(
                task, completed=done, description=f"accepted {total.accepted} rejected {total.rejected}"
            )

        try:
            summary = runner.run(options, on_progress=on_progress)
        except (ClientError, RuntimeError) as exc:
            raise _fail(str(exc)) from exc
        on_progress(summary.stats.total().sent, summary.stats)  # with the answers in flight at the last send
    console.print(report.summary_table(summary))
    for line in report.stage_lines(summary):
        console.print(line, soft_wrap=True)


def _demo_admin_for(url: str) -> tuple[str | None, str | None]:
    """Without admin credentials: the demo admin of this machine's database (made when it has no admin),
    so the simulator can create zones, places and camera keys. Checked against the server by logging in."""
    from safesphere.auth.demo_admin import ensure_demo_admin

    database = _database()
    try:
        demo = ensure_demo_admin(database=database)
        label = _database_label(database.settings)
    finally:
        database.dispose()
    if demo is None:
        console.print(
            f"[yellow]{label} has admin accounts: pass --admin-email/--admin-password to create zones, "
            "places and cameras[/yellow]",
            soft_wrap=True,
        )
        return None, None
    try:
        answer = httpx.post(
            f"{url}/auth/login", json={"email": demo.email, "password": demo.password}, timeout=30
        )
    except httpx.HTTPError as exc:
        raise _fail(f"Cannot reach the server at {url}: {exc}") from exc
    if answer.status_code != 200:
        raise _fail(
            f"The server at {url} does not accept the demo admin of {label} (HTTP {answer.status_code}): it "
            "serves another database. Run simulate with the server's SAFESPHERE_DATA_DIR/_DATABASE_URL, "
            "or pass --admin-email/--admin-password"
        )
    if demo.created:
        console.print(
            f"No admin account in {label}: created the demo admin {demo.email} "
            f"(password in {demo.password_file}; log in to {url}/dashboard with it)",
            soft_wrap=True,
        )
    else:
        console.print(f"Using the demo admin {demo.email} (password in {demo.password_file})", soft_wrap=True)
    return demo.email, demo.password


@app.command()
def purge() -> None:
    """Delete what is past its retention period now (the server also does it every
    SAFESPHERE_RETENTION_INTERVAL_S): old location fixes, closed incidents with their evidence, resolved
    alerts and finished deliveries."""
    from safesphere.retention.service import purge as purge_expired

    database = _database()
    try:
        purged = purge_expired(database=database, settings=database.settings)
    finally:
        database.dispose()
    console.print(
        f"Deleted {purged.fixes:,} location fixes, {purged.incidents:,} incidents "
        f"({purged.evidence_files:,} evidence files), {purged.alerts:,} alerts and "
        f"{purged.deliveries:,} deliveries.",
        soft_wrap=True,
    )
    for stored_path in purged.missing_files:
        console.print(f"Evidence file already missing: {stored_path}", soft_wrap=True)


@app.command()
def rescore(
    hours_back: Annotated[float, typer.Option(min=0.01, help="Rescore fixes of the last N hours.")] = 1.0,
    batch_size: Annotated[int, typer.Option(min=1, help="Fixes per batch (one transaction each).")] = 5000,
) -> None:
    """Rescore recent location fixes with data as of each fix's time, and refresh current scores.

    The last line gives the count, the rescoring's own seconds (start-up excluded) and its rate."""
    import time

    from rich.progress import Progress

    from safesphere.tracking.rescoring.service import update_location_safety_scores
    from safesphere.zones.spatial_index import ZoneIndex

    database = _database()
    try:
        with Progress(console=console, transient=True) as bar:
            task = bar.add_task("Rescoring fixes", total=None)

            def advance(done: int, total: int) -> None:
                bar.update(task, completed=done, total=total)

            began = time.perf_counter()
            count = update_location_safety_scores(
                database=database,
                settings=database.settings,
                zone_index=ZoneIndex(),
                hours_back=hours_back,
                batch_size=batch_size,
                progress=advance,
            )
            elapsed = time.perf_counter() - began
    finally:
        database.dispose()
    rate = count / elapsed if elapsed > 0 else 0.0
    console.print(f"Rescored {count:,} fixes in {elapsed:.2f} s ({rate:,.0f} fixes/s).", soft_wrap=True)
