from __future__ import annotations

import base64
import json
import stat
import threading
from pathlib import Path

import pytest
from django.conf import settings

from tertulia.config import ConfigError
from tertulia.connectors.registry import open_connector
from tertulia.core.actions.channels import connect_channel
from tertulia.core.actions.context import Actor
from tertulia.core.models import AuditEntry
from tertulia.core.tests.factories import make_brand, make_org
from tertulia.vault import actions
from tertulia.vault.crypto import VaultError
from tertulia.vault.keys import KEY_FILE, add_key, load_keyring
from tertulia.vault.models import Credential

pytestmark = pytest.mark.django_db
SECRETS = {"access_token": "tok-ÄÖ-😀-secret", "refresh_token": "ref-secret"}


@pytest.fixture(autouse=True)
def _fresh_keys(monkeypatch):
    monkeypatch.delenv("TERTULIA_VAULT_KEYS", raising=False)
    path = Path(settings.CONFIG.data_dir) / KEY_FILE
    path.unlink(missing_ok=True)
    yield
    path.unlink(missing_ok=True)


@pytest.fixture
def channel():
    return connect_channel(Actor.system(), make_brand(make_org()), "sandbox", "vaulted")


def test_secrets_are_stored_encrypted_and_opened_only_in_the_block(channel):
    actions.store_credentials(Actor.system(), channel, SECRETS)
    row = Credential.objects.get(channel=channel)
    stored = bytes(row.ciphertext) + bytes(row.wrapped_key) + bytes(row.nonce)
    for value in SECRETS.values():
        assert value.encode() not in stored
    with actions.unlocked(channel) as secrets:
        assert secrets == SECRETS
        kept = secrets
    assert kept == {}, "the clear copy is dropped after the call"
    with open_connector(channel) as connector:
        assert dict(connector.account.credentials) == SECRETS
    assert Credential.objects.get(channel=channel).last_used_at is not None


def test_the_audit_trail_names_fields_never_values(channel):
    actions.store_credentials(Actor.system(), channel, SECRETS)
    entry = AuditEntry.objects.get(action="credential.store")
    assert entry.changes["fields"] == [None, ["access_token", "refresh_token"]]
    assert "secret" not in json.dumps(entry.changes)


def test_the_key_file_is_private_and_created_once():
    first = load_keyring()
    path = Path(settings.CONFIG.data_dir) / KEY_FILE
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_keyring().keys == first.keys


def test_the_first_key_is_made_once_when_many_start_at_once():
    """Workers sealing their first secret together all get the one key, never a half-written file."""
    barrier = threading.Barrier(12)
    found: list[dict[str, bytes]] = []
    errors: list[BaseException] = []

    def first_use() -> None:
        barrier.wait(timeout=30)
        try:
            found.append(load_keyring().keys)
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=first_use) for _ in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors and len(found) == 12
    assert all(keys == found[0] for keys in found)
    assert [p.name for p in Path(settings.CONFIG.data_dir).glob(f"{KEY_FILE}*")] == [KEY_FILE]


def test_a_ciphertext_moved_to_another_channel_does_not_open(channel):
    other = connect_channel(Actor.system(), channel.brand, "sandbox", "other_one")
    actions.store_credentials(Actor.system(), channel, SECRETS)
    actions.store_credentials(Actor.system(), other, {"access_token": "theirs"})
    mine = Credential.objects.get(channel=channel)
    Credential.objects.filter(channel=other).update(
        wrapped_key=mine.wrapped_key, nonce=mine.nonce, ciphertext=mine.ciphertext, key_id=mine.key_id
    )
    with pytest.raises(VaultError), actions.unlocked(other):
        pass


def test_tampering_is_detected(channel):
    actions.store_credentials(Actor.system(), channel, SECRETS)
    row = Credential.objects.get(channel=channel)
    flipped = bytearray(bytes(row.ciphertext))
    flipped[0] ^= 1
    Credential.objects.filter(pk=row.pk).update(ciphertext=bytes(flipped))
    with pytest.raises(VaultError), actions.unlocked(channel):
        pass


def test_rotation_rewraps_under_the_new_key_and_secrets_survive(channel):
    actions.store_credentials(Actor.system(), channel, SECRETS)
    old = Credential.objects.get(channel=channel)
    new_id = add_key()
    assert actions.rotate() == 1
    row = Credential.objects.get(channel=channel)
    assert row.key_id == new_id != old.key_id
    assert bytes(row.ciphertext) == bytes(old.ciphertext), "rotation re-wraps the data key only"
    with actions.unlocked(channel) as secrets:
        assert secrets == SECRETS
    assert actions.rotate() == 0


def test_keys_from_the_environment_and_their_errors(channel, monkeypatch):
    key = base64.b64encode(b"k" * 32).decode()
    monkeypatch.setenv("TERTULIA_VAULT_KEYS", f"prod1:{key}")
    actions.store_credentials(Actor.system(), channel, SECRETS)
    assert Credential.objects.get(channel=channel).key_id == "prod1"
    with pytest.raises(ConfigError, match="put the new key first"):
        add_key()
    monkeypatch.setenv("TERTULIA_VAULT_KEYS", "prod2:notbase64!")
    with pytest.raises(ConfigError, match="not base64"):
        load_keyring()
    monkeypatch.setenv("TERTULIA_VAULT_KEYS", f"prod2:{base64.b64encode(b'short').decode()}")
    with pytest.raises(ConfigError, match="must be 32 bytes"):
        load_keyring()
    # The old key gone: its credentials cannot be opened, and say why.
    monkeypatch.setenv("TERTULIA_VAULT_KEYS", f"prod2:{base64.b64encode(b'n' * 32).decode()}")
    with pytest.raises(VaultError, match="prod1"), actions.unlocked(channel):
        pass


def test_a_channel_without_secrets_opens_empty(channel):
    with actions.unlocked(channel) as secrets:
        assert secrets == {}
    assert actions.remove_credentials(Actor.system(), channel) is False
