from __future__ import annotations

import stat
from pathlib import Path

import pytest

from tertulia.config import ConfigError, load_config


def env(tmp_path: Path, **extra: str) -> dict[str, str]:
    return {"TERTULIA_DATA_DIR": str(tmp_path / "data"), **extra}


def test_defaults_are_embedded_and_safe(tmp_path):
    config = load_config(env(tmp_path))
    assert config.data_dir == (tmp_path / "data").resolve()
    assert not config.debug
    assert not config.uses_postgres and not config.uses_redis
    assert config.sqlite_path.parent == config.data_dir
    assert config.allowed_hosts == ("127.0.0.1", "localhost", "[::1]")


def test_secret_key_is_generated_once_private_and_reused(tmp_path):
    first = load_config(env(tmp_path)).secret_key
    key_file = tmp_path / "data" / "secret_key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert len(first) >= 50
    assert load_config(env(tmp_path)).secret_key == first
    other = load_config({"TERTULIA_DATA_DIR": str(tmp_path / "other")}).secret_key
    assert other != first


def test_secret_key_from_the_environment_wins(tmp_path):
    assert load_config(env(tmp_path, TERTULIA_SECRET_KEY="shared-key")).secret_key == "shared-key"


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"DATABASE_URL": "mysql://x@localhost/db"}, "DATABASE_URL scheme 'mysql' is not supported"),
        ({"DATABASE_URL": "postgresql://localhost"}, "DATABASE_URL has no database name"),
        ({"DATABASE_URL": "postgresql://localhost:notaport/db"}, "DATABASE_URL has an invalid port"),
        ({"REDIS_URL": "http://localhost"}, "REDIS_URL scheme 'http' is not supported"),
        ({"TERTULIA_DEBUG": "maybe"}, "TERTULIA_DEBUG='maybe' is not a boolean"),
        ({"TERTULIA_LOG_LEVEL": "loud"}, "TERTULIA_LOG_LEVEL"),
    ],
)
def test_bad_values_say_what_to_fix_in_one_line(tmp_path, extra, message):
    with pytest.raises(ConfigError) as caught:
        load_config(env(tmp_path, **extra))
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)


def test_a_data_dir_that_cannot_be_created_is_reported(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(ConfigError, match="cannot create the data directory") as caught:
        load_config({"TERTULIA_DATA_DIR": str(blocker / "sub")})
    assert "TERTULIA_DATA_DIR" in str(caught.value)


def test_a_data_dir_that_is_a_file_is_reported(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(ConfigError):
        load_config({"TERTULIA_DATA_DIR": str(blocker)})


def test_lists_and_booleans(tmp_path):
    config = load_config(
        env(
            tmp_path,
            TERTULIA_DEBUG="yes",
            TERTULIA_ALLOWED_HOSTS="a.example, b.example ,",
            REDIS_URL="redis://127.0.0.1:6379/0",
            DATABASE_URL="postgresql://u:p@127.0.0.1:5432/t",
        )
    )
    assert config.debug
    assert config.allowed_hosts == ("a.example", "b.example")
    assert config.uses_postgres and config.uses_redis


@pytest.mark.parametrize(
    ("name", "url"), [("DATABASE_URL", "postgresql://[::1/db"), ("REDIS_URL", "redis://[::1")]
)
def test_malformed_urls_are_one_line_errors(tmp_path, name, url):
    with pytest.raises(ConfigError, match=f"{name} is not a valid URL"):
        load_config(env(tmp_path, **{name: url}))


def test_an_unreadable_secret_key_says_how_to_recover(tmp_path):
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "secret_key").mkdir()
    with pytest.raises(ConfigError, match="delete it to generate a new one"):
        load_config(env(tmp_path))


def test_https_is_off_unless_asked_for(tmp_path):
    assert not load_config(env(tmp_path)).https
    assert load_config(env(tmp_path, TERTULIA_HTTPS="true")).https


def test_seconds_are_whole_and_bounded():
    from tertulia.config import parse_seconds

    assert parse_seconds("X", None, default=60) == 60
    assert parse_seconds("X", " 30 ", default=60, minimum=5) == 30
    for bad in ("3", "-10", "1.5", "soon"):
        with pytest.raises(ConfigError, match="X="):
            parse_seconds("X", bad, default=60, minimum=5)
