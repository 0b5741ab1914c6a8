"""The server's VAPID key pair (RFC 8292), made on first start and kept in the data
directory. The private key is stored encrypted under the keyring (like every secret the
server holds), so the data directory alone does not let anyone push as us."""

from __future__ import annotations

import base64
import json
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from py_vapid import Vapid02

from ..storage.crypto import Keyring

AAD = "vapid/private"


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass(frozen=True)
class VapidKeys:
    private_key: ec.EllipticCurvePrivateKey

    @property
    def public_key_b64(self) -> str:
        """The application server key browsers subscribe with: base64url, uncompressed point."""
        raw = self.private_key.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
        return b64url(raw)

    def vapid(self) -> Vapid02:
        # pywebpush takes a Vapid object (not a PEM string); build a fresh one per use.
        return Vapid02(private_key=self.private_key)


def _raw_private(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_numbers().private_value.to_bytes(32, "big")


def vapid_path(data_dir: Path) -> Path:
    return data_dir / "keys" / "vapid.json"


def _write(path: Path, public: str, sealed_private: str, *, replace: bool) -> None:
    body = json.dumps({"public_key": public, "private_key": sealed_private}, indent=2)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".vapid-{os.getpid()}-{os.urandom(4).hex()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(body)
        fh.flush()
        os.fsync(fh.fileno())
    if replace:
        os.replace(tmp, path)
        return
    try:
        # link() refuses to replace: if another process made its pair first, both use it.
        os.link(tmp, path)
    except FileExistsError:
        pass
    finally:
        os.unlink(tmp)


def reencrypt(data_dir: Path, keyring: Keyring) -> bool:
    """Seal the private key under the keyring's active key (key rotation); True if rewritten.
    The key pair itself is unchanged, so existing browser subscriptions stay valid."""
    path = vapid_path(data_dir)
    if not path.exists():
        return False
    data = json.loads(path.read_text())
    if data["private_key"].startswith(f"e1.{keyring.active}."):
        return False
    raw = keyring.decrypt(data["private_key"], AAD)
    _write(path, data["public_key"], keyring.encrypt(raw, AAD), replace=True)
    return True


def load_or_create(data_dir: Path, keyring: Keyring) -> VapidKeys:
    path = vapid_path(data_dir)
    if not path.exists():
        key = ec.generate_private_key(ec.SECP256R1())
        _write(path, VapidKeys(key).public_key_b64, keyring.encrypt(_raw_private(key), AAD), replace=False)
    data = json.loads(path.read_text())
    raw = keyring.decrypt(data["private_key"], AAD)
    key = ec.derive_private_key(int.from_bytes(raw, "big"), ec.SECP256R1())
    keys = VapidKeys(key)
    if keys.public_key_b64 != data["public_key"]:
        raise RuntimeError(f"{path}: the public key does not match the private key")
    return keys
