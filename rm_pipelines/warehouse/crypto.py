"""Encryption at rest for sensitive fields (SSNs and their last four, birth dates, incomes, asset values).

Keys: `ESTATECORE_ENCRYPTION_KEYS` holds one or more Fernet keys, comma-separated, **newest first**. The first
key encrypts; every key decrypts (MultiFernet), so rotation is: put a new key in front, run
`rm-pipelines keys rotate` (re-encrypts every stored value with the new key), then drop the old key.

Without the variable (the embedded demo) a key file `estatecore.keys` is generated in the data dir with
mode 0600 and the log says so; sensitive values are never stored in clear either way.

Stored values are text `enc:<fernet token>`; anything shown to people goes through `mask()`.
"""

from __future__ import annotations

import logging
import os
import stat
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

ENV_VAR = "ESTATECORE_ENCRYPTION_KEYS"
KEY_FILE_NAME = "estatecore.keys"
PREFIX = "enc:"
TOKEN_PREFIX = PREFIX + "gAAAAA"
"""What every stored token starts with: a Fernet token is version byte 0x80 and a 64-bit timestamp whose high
bytes stay zero until 2106. Testing for it (not just "enc:") keeps a clear value that happens to start with
"enc:" — a comment, a UDF — from being taken for a token."""
MASK = "****"

log = logging.getLogger(__name__)


class EncryptionKeyError(RuntimeError):
    """No usable key, or a value that none of the configured keys can decrypt."""


def generate_key() -> str:
    """A new random Fernet key (url-safe base64 text)."""
    return Fernet.generate_key().decode()


def is_encrypted(value: Any) -> bool:
    return isinstance(value, str) and value.startswith(TOKEN_PREFIX)


def mask(value: Any) -> str | None:
    """What people see instead of a sensitive value."""
    return None if value is None else MASK


@dataclass(frozen=True)
class Keyring:
    keys: tuple[str, ...]
    source: str  # "env" or "file:<path>"

    @property
    def fernet(self) -> MultiFernet:
        return _fernet(self.keys)

    def encrypt(self, text: str) -> str:
        return PREFIX + self.fernet.encrypt(text.encode()).decode()

    def decrypt(self, value: str) -> str:
        if not is_encrypted(value):
            raise EncryptionKeyError("value is not an encrypted token")
        try:
            return self.fernet.decrypt(value[len(PREFIX):].encode()).decode()
        except InvalidToken:
            raise EncryptionKeyError(
                f"a stored value cannot be decrypted with the configured keys ({self.source}); "
                f"was a key removed from {ENV_VAR} before `rm-pipelines keys rotate` ran?"
            ) from None

    def rotate(self, value: str) -> str:
        """Re-encrypt a token with the primary (first) key."""
        if not is_encrypted(value):
            return value
        try:
            return PREFIX + self.fernet.rotate(value[len(PREFIX):].encode()).decode()
        except InvalidToken:
            raise EncryptionKeyError(f"a stored value cannot be decrypted with the configured keys ({self.source})") from None

    def encrypt_many(self, values: Iterable[Any]) -> list[str | None]:
        f = self.fernet
        return [None if v is None else PREFIX + f.encrypt(str(v).encode()).decode() for v in values]

    def decrypt_many(self, values: Iterable[Any]) -> list[str | None]:
        f = self.fernet
        out: list[str | None] = []
        for v in values:
            if v is None:
                out.append(None)
            elif is_encrypted(v):
                try:
                    out.append(f.decrypt(v[len(PREFIX):].encode()).decode())
                except InvalidToken:
                    raise EncryptionKeyError(
                        f"a stored value cannot be decrypted with the configured keys ({self.source})") from None
            else:
                out.append(str(v))
        return out


_cache: dict[tuple, Keyring] = {}
_lock = threading.Lock()


_fernets: dict[tuple[str, ...], MultiFernet] = {}


def _fernet(keys: tuple[str, ...]) -> MultiFernet:
    f = _fernets.get(keys)
    if f is None:
        f = _fernets[keys] = MultiFernet([Fernet(k.encode()) for k in keys])
    return f


def _parse_keys(raw: str, source: str) -> tuple[str, ...]:
    keys = tuple(k.strip() for k in raw.replace("\n", ",").split(",") if k.strip())
    if not keys:
        raise EncryptionKeyError(f"{source} holds no key")
    for i, key in enumerate(keys, 1):
        try:
            Fernet(key.encode())
        except (ValueError, TypeError):
            # never echo the key itself
            raise EncryptionKeyError(f"{source}: key #{i} is not a valid Fernet key (32 url-safe base64 bytes)") from None
    return keys


def key_file_path() -> Path:
    from ..settings import get_settings

    return get_settings().data_dir / KEY_FILE_NAME


def get_keyring(*, create: bool = True) -> Keyring:
    """The configured keys: the environment variable, else the data-dir key file (generated if missing)."""
    raw = os.environ.get(ENV_VAR)
    if raw:
        cache_key: tuple = ("env", raw)
        with _lock:
            ring = _cache.get(cache_key)
            if ring is None:
                ring = _cache[cache_key] = Keyring(_parse_keys(raw, ENV_VAR), "env")
        return ring
    path = key_file_path()
    with _lock:
        if not path.exists():
            if not create:
                raise EncryptionKeyError(f"no encryption key: set {ENV_VAR} (or create {path})")
            _write_key_file(path, (generate_key(),))
            log.warning(
                "%s is not set: generated an encryption key file at %s (mode 0600) for sensitive fields. "
                "Back it up — without it encrypted values cannot be read. In production set %s.",
                ENV_VAR, path, ENV_VAR,
            )
        mode = stat.S_IMODE(path.stat().st_mode)
        if mode & 0o077:
            log.warning("encryption key file %s is readable by others (mode %o); run chmod 600", path, mode)
        cache_key = ("file", str(path), path.stat().st_mtime_ns)
        ring = _cache.get(cache_key)
        if ring is None:
            ring = _cache[cache_key] = Keyring(_parse_keys(path.read_text(), f"key file {path}"), f"file:{path}")
        return ring


def _write_key_file(path: Path, keys: tuple[str, ...]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + f".tmp{os.getpid()}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write("\n".join(keys) + "\n")
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)


def prepend_key_to_file(new_key: str | None = None) -> Keyring:
    """Key-file mode: put a new key in front of the file's keys (for `keys rotate --new-key`)."""
    if os.environ.get(ENV_VAR):
        raise EncryptionKeyError(f"{ENV_VAR} is set: add the new key in front of it yourself, then rotate")
    ring = get_keyring(create=True)
    path = key_file_path()
    _write_key_file(path, (new_key or generate_key(), *ring.keys))
    return get_keyring()


def retire_old_file_keys() -> Keyring:
    """Key-file mode, after a successful rotation: keep only the primary key."""
    ring = get_keyring()
    if ring.source.startswith("file:") and len(ring.keys) > 1:
        _write_key_file(key_file_path(), ring.keys[:1])
    return get_keyring()
