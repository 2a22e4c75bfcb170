"""Bad configuration gives a one-line error that says what to fix, exit code 2, and no traceback."""

from __future__ import annotations

import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.processes import free_port, run_tertulia, tertulia_env

pytestmark = pytest.mark.slow

# Must never appear in any message: errors name the server, not its credentials.
DB_PASSWORD = "pw-7f3a9c1e"


def assert_one_line_error(result: subprocess.CompletedProcess[str], *must_mention: str) -> str:
    """The operator sees exactly one line on stderr, starting `tertulia: error:`, naming the fix."""
    assert "Traceback" not in result.stderr, result.stderr
    assert "Traceback" not in result.stdout, result.stdout
    assert result.returncode == 2, f"exit code {result.returncode}; stderr: {result.stderr}"
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, f"expected one line on stderr, got:\n{result.stderr}"
    line = lines[0]
    assert line.startswith("tertulia: error: "), line
    for word in must_mention:
        assert word in line, f"{word!r} not in {line!r}"
    return line


@pytest.fixture
def closed_port() -> int:
    # Nothing listens there: connecting is refused at once (no waiting for a timeout).
    return free_port()


@pytest.fixture
def a_file(tmp_path: Path) -> Path:
    path = tmp_path / "not-a-folder"
    path.write_text("a regular file\n")
    return path


@pytest.mark.parametrize("command", ["check", "migrate", "serve"])
def test_data_dir_under_a_file_cannot_be_created(command: str, a_file: Path) -> None:
    # Root ignores permission bits, so "unwritable" is made with a path that can never be a folder.
    result = run_tertulia(command, env=tertulia_env(a_file / "sub"))
    assert_one_line_error(result, "data directory", str(a_file / "sub"), "TERTULIA_DATA_DIR")


def test_data_dir_that_is_a_file(a_file: Path) -> None:
    result = run_tertulia("migrate", env=tertulia_env(a_file))
    assert_one_line_error(result, "data directory", str(a_file), "TERTULIA_DATA_DIR")


def test_data_dir_option_is_checked_too(a_file: Path, tmp_path: Path) -> None:
    result = run_tertulia("migrate", "--data-dir", str(a_file / "sub"), env=tertulia_env(tmp_path / "unused"))
    assert_one_line_error(result, "data directory", "--data-dir")


def test_unwritable_data_dir_in_proc() -> None:
    # /proc refuses new folders even to root: a second, kernel-enforced kind of unwritable place.
    result = run_tertulia("check", env=tertulia_env(Path("/proc/tertulia-test")))
    assert_one_line_error(result, "data directory", "/proc/tertulia-test")


@pytest.mark.parametrize(
    ("url", "must_mention"),
    [
        ("mysql://user:pw@127.0.0.1:3306/tertulia", ("DATABASE_URL", "'mysql'", "postgresql://")),
        ("127.0.0.1:5432/tertulia", ("DATABASE_URL", "postgresql://")),
        ("postgresql://user:pw@127.0.0.1:5432", ("DATABASE_URL", "no database name")),
        ("postgresql://user:pw@127.0.0.1:notaport/tertulia", ("DATABASE_URL", "port")),
        ("postgresql://user:pw@[::1/tertulia", ("DATABASE_URL", "not a valid URL")),
    ],
)
@pytest.mark.parametrize("command", ["check", "migrate"])
def test_bad_database_url(command: str, url: str, must_mention: tuple[str, ...], data_dir: Path) -> None:
    result = run_tertulia(command, env=tertulia_env(data_dir, DATABASE_URL=url))
    assert_one_line_error(result, *must_mention)


@pytest.mark.parametrize("command", ["migrate", "serve", "createadmin"])
def test_database_on_a_closed_port(command: str, closed_port: int, data_dir: Path) -> None:
    env = tertulia_env(
        data_dir, DATABASE_URL=f"postgresql://tertulia:{DB_PASSWORD}@127.0.0.1:{closed_port}/tertulia"
    )
    args = (
        [command, "--email", "a@example.com", "--password-stdin"] if command == "createadmin" else [command]
    )
    result = run_tertulia(*args, env=env, stdin="a long enough password 123\n")
    line = assert_one_line_error(result, "PostgreSQL", f"127.0.0.1:{closed_port}", "DATABASE_URL")
    assert DB_PASSWORD not in line, "the error must not print the database password"


def test_check_reports_an_unreachable_database(closed_port: int, data_dir: Path) -> None:
    """`check` is a report: it lists every part with ok/FAIL and exits 1, still without a traceback."""
    env = tertulia_env(
        data_dir, DATABASE_URL=f"postgresql://tertulia:{DB_PASSWORD}@127.0.0.1:{closed_port}/tertulia"
    )
    result = run_tertulia("check", env=env)
    assert "Traceback" not in result.stdout + result.stderr
    assert result.returncode == 1, result.stdout + result.stderr
    database_line = next(line for line in result.stdout.splitlines() if "database" in line)
    assert "FAIL" in database_line
    assert "DATABASE_URL" in database_line
    assert DB_PASSWORD not in result.stdout + result.stderr


@pytest.mark.parametrize("command", ["migrate", "serve"])
def test_redis_on_a_closed_port(command: str, closed_port: int, data_dir: Path) -> None:
    result = run_tertulia(command, env=tertulia_env(data_dir, REDIS_URL=f"redis://127.0.0.1:{closed_port}/0"))
    assert_one_line_error(result, "Redis", "REDIS_URL")


def test_bad_redis_url_scheme(data_dir: Path) -> None:
    result = run_tertulia("migrate", env=tertulia_env(data_dir, REDIS_URL="http://127.0.0.1:6379/0"))
    assert_one_line_error(result, "REDIS_URL", "redis://")


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("TERTULIA_DEBUG", "maybe"),
        ("TERTULIA_HTTPS", "si"),
        ("TERTULIA_TASKS_IMMEDIATE", "sometimes"),
        ("TERTULIA_LOG_LEVEL", "LOUD"),
    ],
)
def test_bad_setting_value(variable: str, value: str, data_dir: Path) -> None:
    result = run_tertulia("check", env=tertulia_env(data_dir, **{variable: value}))
    assert_one_line_error(result, variable)


def test_serve_before_migrate_says_to_migrate(embedded_env: dict[str, str]) -> None:
    result = run_tertulia("serve", "--port", str(free_port()), env=embedded_env)
    assert_one_line_error(result, "tertulia migrate")


@pytest.fixture
def occupied_port() -> Iterator[int]:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen(1)
        yield int(holder.getsockname()[1])


def test_serve_on_an_occupied_port(occupied_port: int, embedded_env: dict[str, str]) -> None:
    assert run_tertulia("migrate", env=embedded_env).returncode == 0
    result = run_tertulia("serve", "--port", str(occupied_port), env=embedded_env)
    assert_one_line_error(result, f"127.0.0.1:{occupied_port}", "--port")


def test_demo_on_an_occupied_port(occupied_port: int, embedded_env: dict[str, str]) -> None:
    result = run_tertulia("demo", "--port", str(occupied_port), env=embedded_env)
    assert_one_line_error(result, f"127.0.0.1:{occupied_port}", "--port")
