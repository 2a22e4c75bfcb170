"""Envelope encryption with AES-256-GCM (authenticated: tampering is detected, not decrypted).

Each secret gets its own random data key; the data key is stored wrapped (encrypted) by
a master key. `aad` (associated data) binds a ciphertext to its owner, so a row copied
onto another channel does not decrypt.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from tertulia.vault.keys import KEY_BYTES, Keyring

NONCE_BYTES = 12


class VaultError(Exception):
    """A secret cannot be opened: unknown master key, or the data was altered."""


@dataclass(frozen=True)
class Sealed:
    key_id: str
    wrapped_key: bytes  # nonce + AES-GCM(master key, data key)
    nonce: bytes
    ciphertext: bytes


def _wrap_aad(aad: bytes) -> bytes:
    return b"tertulia-data-key:" + aad


def seal(plaintext: bytes, aad: bytes, keyring: Keyring) -> Sealed:
    data_key = AESGCM.generate_key(bit_length=KEY_BYTES * 8)
    nonce = os.urandom(NONCE_BYTES)
    ciphertext = AESGCM(data_key).encrypt(nonce, plaintext, aad)
    return Sealed(keyring.current_id, _wrap(data_key, aad, keyring, keyring.current_id), nonce, ciphertext)


def _wrap(data_key: bytes, aad: bytes, keyring: Keyring, key_id: str) -> bytes:
    wrap_nonce = os.urandom(NONCE_BYTES)
    return wrap_nonce + AESGCM(keyring.keys[key_id]).encrypt(wrap_nonce, data_key, _wrap_aad(aad))


def _unwrap(sealed: Sealed, aad: bytes, keyring: Keyring) -> bytes:
    master = keyring.keys.get(sealed.key_id)
    if master is None:
        raise VaultError(f"the vault key {sealed.key_id!r} is not configured")
    wrapped = bytes(sealed.wrapped_key)
    try:
        return AESGCM(master).decrypt(wrapped[:NONCE_BYTES], wrapped[NONCE_BYTES:], _wrap_aad(aad))
    except InvalidTag as exc:
        raise VaultError("a data key failed authentication") from exc


def unseal(sealed: Sealed, aad: bytes, keyring: Keyring) -> bytes:
    data_key = _unwrap(sealed, aad, keyring)
    try:
        return AESGCM(data_key).decrypt(bytes(sealed.nonce), bytes(sealed.ciphertext), aad)
    except InvalidTag as exc:
        raise VaultError("a secret failed authentication") from exc


def rewrap(sealed: Sealed, aad: bytes, keyring: Keyring) -> Sealed:
    """The same secret with its data key wrapped by the current master key."""
    data_key = _unwrap(sealed, aad, keyring)
    wrapped = _wrap(data_key, aad, keyring, keyring.current_id)
    return Sealed(keyring.current_id, wrapped, sealed.nonce, sealed.ciphertext)
