"""First run of an embedded instance: check, migrate, the secret key, and the first administrator."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from tests.processes import run_tertulia

pytestmark = pytest.mark.slow

STRONG_PASSWORD = "quiet-harbour-lantern-42"


def test_check_migrate_check(embedded_env: dict[str, str], data_dir: Path) -> None:
    before = run_tertulia("check", env=embedded_env)
    assert before.returncode == 1, before.stdout + before.stderr
    assert "pending" in before.stdout and "tertulia migrate" in before.stdout
    assert "Traceback" not in before.stderr

    migrated = run_tertulia("migrate", env=embedded_env)
    assert migrated.returncode == 0, migrated.stdout + migrated.stderr
    assert "Database is up to date" in migrated.stdout

    after = run_tertulia("check", env=embedded_env)
    assert after.returncode == 0, after.stdout + after.stderr
    assert "up to date" in after.stdout
    assert "FAIL" not in after.stdout
    assert "embedded" in after.stdout

    again = run_tertulia("migrate", env=embedded_env)
    assert again.returncode == 0
    assert "(0 migrations applied)" in again.stdout
    assert (data_dir / "tertulia.sqlite3").is_file()


def test_secret_key_is_private_stable_and_never_printed(embedded_env: dict[str, str], data_dir: Path) -> None:
    first = run_tertulia("check", env=embedded_env)
    key_file = data_dir / "secret_key"
    assert key_file.is_file()
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    key = key_file.read_text().strip()
    assert len(key) >= 50

    second = run_tertulia("migrate", env=embedded_env)
    assert key_file.read_text().strip() == key, "the key must be reused, or every restart signs everyone out"
    for result in (first, second):
        assert key not in result.stdout + result.stderr


def test_secret_key_from_the_environment_is_used_and_not_written(
    embedded_env: dict[str, str], data_dir: Path
) -> None:
    env = {**embedded_env, "TERTULIA_SECRET_KEY": "k" * 60}
    result = run_tertulia("check", env=env)
    assert "TERTULIA_SECRET_KEY" in result.stdout
    assert "k" * 60 not in result.stdout + result.stderr
    assert not (data_dir / "secret_key").exists()


def test_createadmin_with_an_organization(embedded_env: dict[str, str]) -> None:
    assert run_tertulia("migrate", env=embedded_env).returncode == 0
    result = run_tertulia(
        "createadmin",
        "--email",
        "Ana@Example.com",
        "--password-stdin",
        "--organization",
        "Acme Foods",
        env=embedded_env,
        stdin=f"{STRONG_PASSWORD}\n",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "is ready" in result.stdout
    assert STRONG_PASSWORD not in result.stdout + result.stderr

    # Running it again resets the password and keeps one organization (idempotent for scripts).
    again = run_tertulia(
        "createadmin",
        "--email",
        "ana@example.com",
        "--password-stdin",
        "--organization",
        "Acme Foods",
        env=embedded_env,
        stdin="another-strong-passphrase-7\n",
    )
    assert again.returncode == 0, again.stdout + again.stderr

    counted = run_tertulia(
        "manage",
        "shell",
        "--verbosity",
        "0",  # no "N objects imported automatically" banner
        "-c",
        "from tertulia.core.models import Organization, User;"
        "u = User.objects.get(email='ana@example.com');"
        "print(Organization.objects.filter(name='Acme Foods').count(), u.is_superuser,"
        " u.check_password('another-strong-passphrase-7'))",
        env=embedded_env,
    )
    assert counted.returncode == 0, counted.stderr
    assert counted.stdout.split() == ["1", "True", "True"]


@pytest.mark.parametrize(
    ("password", "reason"),
    [("short1", "too short"), ("password123", "too common"), ("8413905726481", "entirely numeric")],
)
def test_createadmin_refuses_a_weak_password(
    password: str, reason: str, embedded_env: dict[str, str]
) -> None:
    assert run_tertulia("migrate", env=embedded_env).returncode == 0
    result = run_tertulia(
        "createadmin",
        "--email",
        "ana@example.com",
        "--password-stdin",
        env=embedded_env,
        stdin=f"{password}\n",
    )
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("tertulia: error:"), result.stderr
    assert reason in lines[0]
    assert password not in result.stdout + result.stderr


def test_createadmin_refuses_a_bad_email(embedded_env: dict[str, str]) -> None:
    assert run_tertulia("migrate", env=embedded_env).returncode == 0
    result = run_tertulia(
        "createadmin",
        "--email",
        "not-an-address",
        "--password-stdin",
        env=embedded_env,
        stdin=f"{STRONG_PASSWORD}\n",
    )
    assert result.returncode == 2
    assert "not an e-mail address" in result.stderr
    assert "Traceback" not in result.stderr
