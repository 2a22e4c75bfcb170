"""Start Django for a command, turning configuration problems into one-line errors."""

from __future__ import annotations

import os
import sqlite3
import sys
from typing import NoReturn

import click


def fail(message: str, code: int = 2) -> NoReturn:
    click.secho(f"tertulia: error: {message}", fg="red", err=True)
    sys.exit(code)


def setup_django(data_dir: str | None = None) -> None:
    """Configure and start Django; exit with a one-line message if the configuration is wrong."""
    if data_dir:
        os.environ["TERTULIA_DATA_DIR"] = data_dir
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tertulia.settings")
    from django.core.exceptions import ImproperlyConfigured

    from tertulia.config import ConfigError

    try:
        import django

        django.setup()
    except ConfigError as exc:
        fail(str(exc))
    except ImproperlyConfigured as exc:
        fail(f"configuration: {exc}")
    except sqlite3.DatabaseError as exc:
        # Huey opens its SQLite queue while Django starts.
        fail(
            f"the task queue file in the data directory is not usable ({exc}): move queue.sqlite3 away and "
            "start again (the database holds the work; the queue only wakes it up)"
        )
    except OSError as exc:
        fail(f"cannot start: {exc.strerror or exc} ({getattr(exc, 'filename', '') or 'no file'})")


def describe_database() -> str:
    from django.conf import settings

    db = settings.DATABASES["default"]
    if db["ENGINE"].endswith("sqlite3"):
        return f"SQLite at {db['NAME']}"
    host = db.get("HOST") or "localhost"
    return f"PostgreSQL database {db.get('NAME')!r} at {host}:{db.get('PORT') or 5432}"


def database_problem() -> str | None:
    """None if the database answers, else what to fix, in one line."""
    from django.db import connection
    from django.db.utils import Error as DatabaseError

    try:
        connection.ensure_connection()
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except DatabaseError as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        hint = (
            "check DATABASE_URL and that the server is running"
            if "PostgreSQL" in describe_database()
            else ("check that the data directory is writable")
        )
        return f"cannot use the {describe_database()}: {reason} ({hint})"
    finally:
        connection.close()
    return None


def redis_problem() -> str | None:
    from django.conf import settings

    url = settings.TERTULIA_REDIS_URL
    if not url:
        return None
    import redis

    try:
        redis.Redis.from_url(url, socket_connect_timeout=3, socket_timeout=3).ping()
    except (redis.RedisError, OSError, ValueError) as exc:
        return f"cannot reach Redis at REDIS_URL: {exc} (check that the server is running)"
    return None


def queue_problem() -> str | None:
    """None if the task queue answers (SQLite file or Redis), else what to fix."""
    from huey.contrib.djhuey import HUEY

    try:
        HUEY.pending_count()
    except Exception as exc:  # storage back ends raise their own error types
        return (
            f"the task queue does not answer: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}"
        )
    return None


def require_services() -> None:
    problem = database_problem() or redis_problem() or queue_problem()
    if problem:
        fail(problem)
