"""Master keys (key-encryption keys) of the vault.

Where they come from, in order:
- `TERTULIA_VAULT_KEYS`: `id:base64key,id:base64key,...`, the first being current. Use this
  when several machines share a database: every machine needs the same keys.
- otherwise `DATA_DIR/vault_keys` (JSON, owner-only), generated on first use.

Rotation adds a new current key and re-wraps every data key with it (`tertulia vault
rotate`); old keys stay readable until removed, so nothing is ever unreadable mid-way.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import secrets
import stat
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings

from tertulia.config import ConfigError

ENV_KEYS = "TERTULIA_VAULT_KEYS"
KEY_FILE = "vault_keys"
KEY_BYTES = 32  # AES-256


@dataclass(frozen=True)
class Keyring:
    current_id: str
    keys: dict[str, bytes]
    source: str  # "environment" or the file's path, for `tertulia vault status`


def _decode(key_id: str, text: str, where: str) -> bytes:
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ConfigError(f"vault key {key_id!r} in {where} is not base64") from exc
    if len(raw) != KEY_BYTES:
        raise ConfigError(f"vault key {key_id!r} in {where} must be {KEY_BYTES} bytes, not {len(raw)}")
    return raw


def _from_env(value: str) -> Keyring:
    keys: dict[str, bytes] = {}
    order: list[str] = []
    for item in (part.strip() for part in value.split(",")):
        if not item:
            continue
        key_id, sep, text = item.partition(":")
        if not sep or not key_id:
            raise ConfigError(f"{ENV_KEYS} must look like id:base64key,id:base64key (first is current)")
        keys[key_id] = _decode(key_id, text, ENV_KEYS)
        order.append(key_id)
    if not order:
        raise ConfigError(f"{ENV_KEYS} is set but holds no key")
    return Keyring(current_id=order[0], keys=keys, source="environment")


def _key_file() -> Path:
    return Path(settings.CONFIG.data_dir) / KEY_FILE


def _write_file(path: Path, current_id: str, keys: dict[str, bytes]) -> None:
    body = {"current": current_id, "keys": {k: base64.b64encode(v).decode() for k, v in keys.items()}}
    temporary = path.with_suffix(".tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, stat.S_IRUSR | stat.S_IWUSR)
    with os.fdopen(fd, "w") as handle:
        json.dump(body, handle)
    temporary.replace(path)  # atomic: readers see the old or the new file, never half


def _new_key_id(existing: dict[str, bytes]) -> str:
    number = len(existing) + 1
    while f"k{number}" in existing:
        number += 1
    return f"k{number}"


def _create_file(path: Path) -> None:
    """The first key, unless another process or thread made the file first.

    The whole file is written under a name of its own, then linked into place: a link never
    replaces an existing file (the first key wins, so nothing sealed with it is lost), and a
    reader never sees the file empty or half written, as it could between creating the file
    and writing it.
    """
    temporary = path.with_name(f"{path.name}.{secrets.token_hex(8)}.new")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, stat.S_IRUSR | stat.S_IWUSR)
    try:
        with os.fdopen(fd, "w") as handle:
            key = base64.b64encode(secrets.token_bytes(KEY_BYTES)).decode()
            json.dump({"current": "k1", "keys": {"k1": key}}, handle)
        os.link(temporary, path)
    except FileExistsError:
        pass  # another one made it first: use theirs
    finally:
        temporary.unlink(missing_ok=True)


def _from_file(path: Path) -> Keyring:
    if not path.exists():
        _create_file(path)
    try:
        body = json.loads(path.read_text())
        keys = {str(k): _decode(str(k), str(v), str(path)) for k, v in body["keys"].items()}
        current = str(body["current"])
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ConfigError(
            f"the vault key file {path} is unreadable ({exc}); restore it from a backup"
        ) from exc
    if current not in keys:
        raise ConfigError(f"the vault key file {path} names a current key it does not hold")
    return Keyring(current_id=current, keys=keys, source=str(path))


def load_keyring() -> Keyring:
    value = os.environ.get(ENV_KEYS, "").strip()
    return _from_env(value) if value else _from_file(_key_file())


def add_key() -> str:
    """Make a new current key (file keyring only). Returns its id."""
    if os.environ.get(ENV_KEYS, "").strip():
        raise ConfigError(f"the vault keys come from {ENV_KEYS}: put the new key first there, then rotate")
    keyring = _from_file(_key_file())
    keys = dict(keyring.keys)
    key_id = _new_key_id(keys)
    keys[key_id] = secrets.token_bytes(KEY_BYTES)
    _write_file(_key_file(), key_id, keys)
    return key_id
