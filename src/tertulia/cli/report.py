"""`tertulia check`: what this instance is configured to use, and whether each part answers."""

from __future__ import annotations

import os

import click
from django.conf import settings

from tertulia import __version__
from tertulia.cli.bootstrap import database_problem, describe_database, queue_problem, redis_problem


def _line(ok: bool | None, label: str, detail: str) -> None:
    mark = {True: click.style("ok  ", fg="green"), False: click.style("FAIL", fg="red"), None: "    "}[ok]
    click.echo(f"  {mark} {label:<14} {detail}")


def run_check() -> int:
    config = settings.CONFIG
    failures = 0
    click.echo(f"Tertulia {__version__}")
    _line(True, "data dir", f"{config.data_dir} (writable)")
    from_env = bool(os.environ.get("TERTULIA_SECRET_KEY"))
    _line(
        None,
        "secret key",
        "from TERTULIA_SECRET_KEY" if from_env else f"from {config.data_dir / 'secret_key'}",
    )
    _line(None, "debug", "on" if config.debug else "off")
    _line(None, "allowed hosts", ", ".join(config.allowed_hosts))

    problem = database_problem()
    failures += problem is not None
    _line(problem is None, "database", problem or describe_database())
    if problem is None:
        from tertulia.cli.migrate import pending_migrations

        pending = pending_migrations()
        _line(
            pending == 0,
            "migrations",
            "up to date" if pending == 0 else f"{pending} pending: run `tertulia migrate`",
        )
        failures += pending != 0

    problem = redis_problem() or queue_problem()
    failures += problem is not None
    queue = "Redis (REDIS_URL)" if config.redis_url else f"SQLite at {config.queue_path}"
    _line(problem is None, "task queue", problem or queue)
    live = "Redis pub/sub" if config.redis_url else "database polling (embedded profile)"
    _line(problem is None, "live updates", problem or live)
    if config.database_url and config.redis_url:
        profile = "scale-out (PostgreSQL + Redis)"
    elif config.database_url:
        profile = "PostgreSQL with a local queue: set REDIS_URL to run workers on several machines"
    elif config.redis_url:
        profile = "SQLite with Redis: set DATABASE_URL to run on several machines"
    else:
        profile = "embedded (SQLite)"
    _line(None, "profile", profile)

    from tertulia.governance.mail import describe_destination, smtp_problem

    problem = smtp_problem()  # signs in to the SMTP server, sends nothing
    failures += problem is not None
    _line(problem is None, "e-mail", problem or describe_destination())
    return 1 if failures else 0
