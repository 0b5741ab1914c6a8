"""Server-side field encryption under a keyring.

Each encrypted value is ``e1.<key id>.<base64url(nonce || ciphertext+tag)>`` so that a
rotation can tell which key wrote it. The additional data binds a value to its table, row
and column: a ciphertext copied into another record does not decrypt.

The keyring lives outside the database (a file in the data directory by default, or the
``HEARTHSIDE_KEYRING`` variable): a stolen database file alone reveals nothing.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
from pathlib import Path

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

PREFIX = "e1."


def _b64e(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _b64d(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class Keyring:
    def __init__(self, keys: dict[str, bytes], active: str, index_key: bytes) -> None:
        if active not in keys:
            raise ValueError("the active key is not in the keyring")
        self.keys = keys
        self.active = active
        self.index_key = index_key
        self._aead = {kid: AESGCM(key) for kid, key in keys.items()}
        # Where this keyring was read from, so a running server picks up a key added by
        # ``hearthside keys rotate`` the first time it meets a value written under it.
        self.source: Path | None = None

    # -- persistence -------------------------------------------------------------------
    @classmethod
    def generate(cls) -> "Keyring":
        return cls({"k1": AESGCM.generate_key(256)}, "k1", os.urandom(32))

    def to_json(self) -> str:
        return json.dumps(
            {
                "active": self.active,
                "keys": {kid: _b64e(k) for kid, k in self.keys.items()},
                "index_key": _b64e(self.index_key),
            },
            indent=2,
        )

    @classmethod
    def from_json(cls, text: str) -> "Keyring":
        data = json.loads(text)
        return cls({kid: _b64d(k) for kid, k in data["keys"].items()}, data["active"], _b64d(data["index_key"]))

    @classmethod
    def load_or_create(cls, path: Path, env_value: str | None = None) -> "Keyring":
        if env_value:
            return cls.from_json(env_value)
        if path.exists():
            ring = cls.from_json(path.read_text())
            ring.source = path
            return ring
        ring = cls.generate()
        ring.save(path)
        ring.source = path
        return ring

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        os.chmod(path.parent, 0o700)
        tmp = path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(self.to_json())
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)

    def with_new_active_key(self) -> "Keyring":
        n = 1 + max(int(k[1:]) for k in self.keys if k[1:].isdigit())
        kid = f"k{n}"
        return Keyring({**self.keys, kid: AESGCM.generate_key(256)}, kid, self.index_key)

    # -- values ------------------------------------------------------------------------
    def encrypt(self, plaintext: bytes, aad: str) -> str:
        nonce = os.urandom(12)
        ct = self._aead[self.active].encrypt(nonce, plaintext, aad.encode())
        return f"{PREFIX}{self.active}.{_b64e(nonce + ct)}"

    def reload(self) -> bool:
        """Re-read the keyring file (after a rotation by another process); True if it
        changed. Old keys stay until retired, so values already read still decrypt."""
        if self.source is None or not self.source.exists():
            return False
        fresh = Keyring.from_json(self.source.read_text())
        if fresh.keys == self.keys and fresh.active == self.active:
            return False
        self.keys, self._aead, self.active = fresh.keys, fresh._aead, fresh.active
        return True

    def decrypt(self, token: str, aad: str) -> bytes:
        _, kid, body = token.split(".", 2)
        if kid not in self._aead:
            self.reload()
        raw = _b64d(body)
        return self._aead[kid].decrypt(raw[:12], raw[12:], aad.encode())

    def key_id_of(self, token: str) -> str:
        return token.split(".", 2)[1]

    def blind_index(self, kind: str, value: str) -> str:
        """Keyed hash for exact-match look-ups (NHS number, agencies' own ids) without
        storing the value in clear. Normalised so spacing does not defeat a match."""
        norm = "".join(value.split()).upper()
        return hmac.new(self.index_key, f"{kind}:{norm}".encode(), hashlib.sha256).hexdigest()


def is_encrypted(value: object) -> bool:
    return isinstance(value, str) and value.startswith(PREFIX)
