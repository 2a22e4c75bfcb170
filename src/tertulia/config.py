"""Runtime configuration read from the environment.

Everything a deployment can change is read here, once, into a frozen `Config`.
Problems are reported as `ConfigError` with a one-line message that says what to
fix; the command line prints it without a traceback (see `tertulia.cli`).
"""

from __future__ import annotations

import os
import secrets
import stat
import time
from dataclasses import dataclass, field
from email.utils import parseaddr
from pathlib import Path
from urllib.parse import SplitResult, parse_qsl, unquote, urlsplit

ENV_DATA_DIR = "TERTULIA_DATA_DIR"
SECRET_KEY_FILE = "secret_key"  # noqa: S105 - a file name, not a secret
SQLITE_FILE = "tertulia.sqlite3"
QUEUE_FILE = "queue.sqlite3"
OUTBOX_DIR = "outbox"  # e-mails as .eml files when no SMTP server is configured
DEFAULT_EMAIL_FROM = "Tertulia <tertulia@localhost>"


class ConfigError(Exception):
    """A configuration problem the operator must fix; the message is one line."""


@dataclass(frozen=True)
class SmtpSettings:
    """Where e-mail goes, from `TERTULIA_SMTP_URL`. The password is left out of repr() and of
    `describe()`, so printing the configuration never shows it."""

    host: str
    port: int
    username: str = ""
    password: str = field(default="", repr=False)
    use_ssl: bool = False  # smtps://: TLS from the first byte (usually port 465)
    use_starttls: bool = False  # smtp://...?starttls=true: upgrade to TLS after connecting (port 587)
    timeout: int = 10

    def describe(self) -> str:
        """The server as an operator reads it, without the password."""
        scheme = "smtps" if self.use_ssl else "smtp"
        user = f"{self.username}@" if self.username else ""
        starttls = " with STARTTLS" if self.use_starttls else ""
        return f"{scheme}://{user}{self.host}:{self.port}{starttls}"


@dataclass(frozen=True)
class Config:
    data_dir: Path
    # Out of repr(): a Config shows in error reports and debugging output, these must not.
    secret_key: str = field(repr=False)
    database_url: str | None = field(repr=False)  # may hold the database password
    redis_url: str | None = field(repr=False)  # may hold Redis' password
    debug: bool
    allowed_hosts: tuple[str, ...]
    csrf_trusted_origins: tuple[str, ...]
    log_level: str
    tasks_immediate: bool
    https: bool
    # E-mail: None means no SMTP server, e-mails are written as files to `outbox_path`.
    smtp: SmtpSettings | None = None
    email_from: str = DEFAULT_EMAIL_FROM

    @property
    def uses_postgres(self) -> bool:
        return self.database_url is not None

    @property
    def uses_redis(self) -> bool:
        return self.redis_url is not None

    @property
    def sqlite_path(self) -> Path:
        return self.data_dir / SQLITE_FILE

    @property
    def queue_path(self) -> Path:
        return self.data_dir / QUEUE_FILE

    @property
    def outbox_path(self) -> Path:
        return self.data_dir / OUTBOX_DIR


def default_data_dir() -> Path:
    """`$XDG_DATA_HOME/tertulia`, i.e. `~/.local/share/tertulia` on most systems."""
    xdg = os.environ.get("XDG_DATA_HOME")
    base = Path(xdg) if xdg else Path.home() / ".local" / "share"
    return base / "tertulia"


def parse_bool(name: str, raw: str | None, default: bool = False) -> bool:
    if raw is None or raw.strip() == "":
        return default
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise ConfigError(f"{name}={raw!r} is not a boolean: use true or false")


def _parse_whole(name: str, raw: str | None, default: int, minimum: int, what: str) -> int:
    if raw is None or raw.strip() == "":
        return default
    value = raw.strip()
    if not value.isdigit() or int(value) < minimum:
        raise ConfigError(f"{name}={raw!r} is not a whole number{what} (at least {minimum})")
    return int(value)


def parse_seconds(name: str, raw: str | None, default: int, minimum: int = 1) -> int:
    return _parse_whole(name, raw, default, minimum, " of seconds")


def parse_count(name: str, raw: str | None, default: int, minimum: int = 0) -> int:
    return _parse_whole(name, raw, default, minimum, "")


def prepare_data_dir(path: Path) -> Path:
    """Create the data directory if needed and prove we can write into it."""
    path = path.expanduser()
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(
            f"cannot create the data directory {path} ({exc.strerror}): "
            f"set {ENV_DATA_DIR} or --data-dir to a writable folder"
        ) from exc
    if not path.is_dir():
        raise ConfigError(f"the data directory {path} is not a folder: set {ENV_DATA_DIR} to a folder")
    probe = path / f".write-test-{os.getpid()}"
    try:
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise ConfigError(
            f"the data directory {path} is not writable ({exc.strerror}): "
            f"fix its permissions or set {ENV_DATA_DIR} to a writable folder"
        ) from exc
    return path.resolve()


def load_or_create_secret_key(data_dir: Path) -> str:
    """Read the instance's secret key, generating it on first run.

    `O_EXCL` makes creation atomic, so two processes starting together agree
    on one key; the file is readable by its owner only.
    """
    key_path = data_dir / SECRET_KEY_FILE
    try:
        fd = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, stat.S_IRUSR | stat.S_IWUSR)
    except FileExistsError:
        pass
    except OSError as exc:
        raise ConfigError(f"cannot create {key_path} ({exc.strerror}): check the data directory") from exc
    else:
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_urlsafe(50))
    for _attempt in range(50):
        try:
            key = key_path.read_text().strip()
        except (OSError, UnicodeDecodeError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) else "not text"
            raise ConfigError(
                f"cannot read the secret key {key_path} ({reason}): "
                "fix it, or delete it to generate a new one"
            ) from exc
        if key:
            return key
        # Another process created the file and is about to write the key.
        time.sleep(0.01)
    raise ConfigError(f"{key_path} is empty: delete it to generate a new secret key")


def _split(name: str, url: str) -> SplitResult:
    try:
        return urlsplit(url)
    except ValueError as exc:  # e.g. an unclosed IPv6 bracket
        raise ConfigError(f"{name} is not a valid URL ({exc})") from exc


def validate_database_url(url: str) -> str:
    parts = _split("DATABASE_URL", url)
    if parts.scheme not in {"postgres", "postgresql", "pgsql", "postgis"}:
        raise ConfigError(
            f"DATABASE_URL scheme {parts.scheme or '(none)'!r} is not supported: "
            "use postgresql://user:password@host:5432/name (leave it unset for the embedded SQLite)"
        )
    if not parts.path.strip("/"):
        raise ConfigError("DATABASE_URL has no database name: use postgresql://user:password@host:5432/name")
    try:
        _ = parts.port
    except ValueError as exc:
        raise ConfigError(f"DATABASE_URL has an invalid port: {exc}") from exc
    return url


def validate_redis_url(url: str) -> str:
    parts = _split("REDIS_URL", url)
    if parts.scheme not in {"redis", "rediss", "unix"}:
        raise ConfigError(
            f"REDIS_URL scheme {parts.scheme or '(none)'!r} is not supported: use redis://host:6379/0"
        )
    try:
        _ = parts.port
    except ValueError as exc:
        raise ConfigError(f"REDIS_URL has an invalid port: {exc}") from exc
    return url


def parse_firehose_url(name: str, raw: str | None) -> str:
    """The Bluesky firehose service (a relay or a PDS) as ws(s)://host[:port][/path], or "" (off).

    https:// and http:// are taken as wss:// and ws://; a trailing /xrpc is dropped (the reader adds it).
    """
    value = (raw or "").strip()
    if not value:
        return ""
    parts = _split(name, value)
    scheme = {"https": "wss", "http": "ws"}.get(parts.scheme.lower(), parts.scheme.lower())
    example = "use wss://bsky.network (a relay) or your PDS's address"
    if scheme not in {"ws", "wss"} or not parts.hostname:
        raise ConfigError(f"{name}={raw!r} is not a firehose address: {example}")
    if parts.username or parts.password or parts.query or parts.fragment:
        raise ConfigError(f"{name} must be a bare address, without credentials or a query: {example}")
    try:
        _ = parts.port
    except ValueError as exc:
        raise ConfigError(f"{name} has an invalid port: {exc}") from exc
    path = parts.path.rstrip("/")
    path = path.removesuffix("/xrpc")
    return f"{scheme}://{parts.netloc.lower()}{path}"


SMTP_EXAMPLE = "use smtps://user:password@host:465, or smtp://user:password@host:587?starttls=true"


def parse_smtp_url(name: str, raw: str | None) -> SmtpSettings | None:
    """`smtp://user:password@host:port` (`?starttls=true` to upgrade the connection to TLS, `&timeout=`
    seconds) or `smtps://...` (TLS from the start); None when empty. User and password may be
    percent-encoded (`%40` for @). No message ever repeats the URL: it holds the password."""
    value = (raw or "").strip()
    if not value:
        return None
    parts = _split(name, value)
    scheme = parts.scheme.lower()
    if scheme not in {"smtp", "smtps"}:
        raise ConfigError(f"{name} scheme {scheme or '(none)'!r} is not supported: {SMTP_EXAMPLE}")
    if not parts.hostname:
        raise ConfigError(f"{name} has no server name: {SMTP_EXAMPLE}")
    if parts.path not in {"", "/"} or parts.fragment:
        raise ConfigError(f"{name} must not have a path: {SMTP_EXAMPLE}")
    if parts.password is not None and not parts.username:
        raise ConfigError(f"{name} has a password but no user name: {SMTP_EXAMPLE}")
    try:
        port = parts.port
    except ValueError:
        raise ConfigError(f"{name} has an invalid port: {SMTP_EXAMPLE}") from None
    options: dict[str, str] = {}
    for key, option in parse_qsl(parts.query, keep_blank_values=True):
        if key not in {"starttls", "timeout"}:
            raise ConfigError(f"{name} has an unknown option {key[:40]!r}: only starttls and timeout")
        options[key] = option
    starttls = parse_bool(f"{name} option starttls", options.get("starttls"))
    timeout = parse_seconds(f"{name} option timeout", options.get("timeout"), default=10)
    use_ssl = scheme == "smtps"
    if use_ssl and starttls:
        raise ConfigError(f"{name}: smtps:// is TLS already, drop starttls (or use smtp://...?starttls=true)")
    return SmtpSettings(
        host=parts.hostname,
        port=port or (465 if use_ssl else 587 if starttls else 25),
        username=unquote(parts.username or ""),
        password=unquote(parts.password or ""),
        use_ssl=use_ssl,
        use_starttls=starttls,
        timeout=timeout,
    )


def parse_email_from(name: str, raw: str | None, *, required: bool) -> str:
    """The sender of Tertulia's e-mails: `social@example.com` or `Tertulia <social@example.com>`."""
    value = (raw or "").strip()
    if not value:
        if required:
            raise ConfigError(
                f"{name} is not set: with TERTULIA_SMTP_URL, say who e-mails come from, "
                "e.g. 'Tertulia <social@example.com>'"
            )
        return DEFAULT_EMAIL_FROM
    _display, address = parseaddr(value)
    local, _at, domain = address.rpartition("@")
    controls = any(ord(ch) < 32 or ord(ch) == 127 for ch in value)  # a line break would add headers
    if controls or not local or not domain or any(ch.isspace() for ch in address):
        raise ConfigError(
            f"{name}={value[:200]!r} is not an e-mail address: use e.g. 'Tertulia <social@example.com>'"
        )
    return value


def split_list(raw: str | None) -> tuple[str, ...]:
    if not raw:
        return ()
    return tuple(item.strip() for item in raw.split(",") if item.strip())


def load_config(environ: dict[str, str] | None = None) -> Config:
    env = dict(os.environ if environ is None else environ)
    data_dir = prepare_data_dir(Path(env.get(ENV_DATA_DIR) or default_data_dir()))
    secret_key = env.get("TERTULIA_SECRET_KEY") or load_or_create_secret_key(data_dir)
    database_url = env.get("DATABASE_URL") or None
    if database_url:
        validate_database_url(database_url)
    redis_url = env.get("REDIS_URL") or None
    if redis_url:
        validate_redis_url(redis_url)
    smtp = parse_smtp_url("TERTULIA_SMTP_URL", env.get("TERTULIA_SMTP_URL"))
    email_from = parse_email_from("TERTULIA_EMAIL_FROM", env.get("TERTULIA_EMAIL_FROM"), required=bool(smtp))
    log_level = (env.get("TERTULIA_LOG_LEVEL") or "INFO").upper()
    if log_level not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
        raise ConfigError(f"TERTULIA_LOG_LEVEL={log_level!r} is not a level: use DEBUG, INFO or WARNING")
    return Config(
        data_dir=data_dir,
        secret_key=secret_key,
        database_url=database_url,
        redis_url=redis_url,
        debug=parse_bool("TERTULIA_DEBUG", env.get("TERTULIA_DEBUG")),
        allowed_hosts=split_list(env.get("TERTULIA_ALLOWED_HOSTS")) or ("127.0.0.1", "localhost", "[::1]"),
        csrf_trusted_origins=split_list(env.get("TERTULIA_CSRF_TRUSTED_ORIGINS")),
        log_level=log_level,
        tasks_immediate=parse_bool("TERTULIA_TASKS_IMMEDIATE", env.get("TERTULIA_TASKS_IMMEDIATE")),
        https=parse_bool("TERTULIA_HTTPS", env.get("TERTULIA_HTTPS")),
        smtp=smtp,
        email_from=email_from,
    )
