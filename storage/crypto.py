"""Encryption at rest and signed links, from the one configured secret.

The key comes from the environment (``WEGBEGLEITER_SECRET_KEY``, or a key generated into the data folder)
through the settings; it is installed once at start-up with :func:`configure`. Column values are Fernet
tokens (AES-128-CBC + HMAC-SHA256), so a stolen database file alone does not reveal what families wrote.
:mod:`storage.keys` checks at start-up that the key is the one the database was written with, and
re-encrypts everything under a new key (``wegbegleiter keys rotate``).
"""

from __future__ import annotations

import base64
import hashlib
import hmac

from cryptography.fernet import Fernet, InvalidToken

_fernet: Fernet | None = None
_signing_key: bytes | None = None


class KeyNotConfigured(RuntimeError):
    """Raised when encrypted data is touched before :func:`configure` ran, or with another key."""


def derive(secret: str, purpose: str) -> bytes:
    """A 32-byte sub-key of the one configured secret, separate per purpose."""
    return hmac.new(secret.encode(), purpose.encode(), hashlib.sha256).digest()


def fernet_for(secret: str) -> Fernet:
    return Fernet(base64.urlsafe_b64encode(derive(secret, "encryption-at-rest")))


def configure(secret: str) -> None:
    global _fernet, _signing_key
    _fernet = fernet_for(secret)
    _signing_key = derive(secret, "signed-links")


def encrypt(text: str) -> str:
    if _fernet is None:
        raise KeyNotConfigured("encryption key not configured")
    return _fernet.encrypt(text.encode()).decode()


def decrypt(token: str) -> str:
    if _fernet is None:
        raise KeyNotConfigured("encryption key not configured")
    try:
        return _fernet.decrypt(token.encode()).decode()
    except (InvalidToken, ValueError) as exc:  # wrong key: say so instead of returning garbage
        raise KeyNotConfigured("stored text cannot be decrypted with the configured key") from exc


def opens(fernet: Fernet, token: str) -> bool:
    """Whether ``token`` was written with this key."""
    try:
        fernet.decrypt(token.encode())
    except (InvalidToken, ValueError):
        return False
    return True


def sign(message: str) -> str:
    """An HMAC for links sent by email (acknowledgements, approvals)."""
    if _signing_key is None:
        raise KeyNotConfigured("signing key not configured")
    mac = hmac.new(_signing_key, message.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac[:18]).decode()


def verify(message: str, signature: str) -> bool:
    """Whether ``signature`` signs ``message``; anything malformed (other characters, other length) is False."""
    return hmac.compare_digest(sign(message).encode(), signature.encode("utf-8", "replace"))
