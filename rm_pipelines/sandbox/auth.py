"""API tokens: AuthorizeUser mints 32-hex tokens; idle and absolute expiry; a per-user cap on live tokens."""

from __future__ import annotations

import secrets
import threading
import time
from dataclasses import dataclass

from .config import SandboxConfig
from .faults import Faults


@dataclass
class Token:
    value: str
    username: str  # canonical spelling from config.users; "partner:<token>" for AuthorizePartner tokens
    created: float
    last_used: float
    generation: int
    location_id: int = 1

    @property
    def credential(self) -> str:
        return self.username if self.username.startswith("partner:") else f"user:{self.username.lower()}"


class TokenCapReached(Exception):
    pass


class TokenStore:
    def __init__(self, config: SandboxConfig, faults: Faults) -> None:
        self.config = config
        self.faults = faults
        self._tokens: dict[str, Token] = {}
        self._lock = threading.Lock()

    def check_password(self, username: str, password: str) -> str | None:
        """The canonical username when the credentials are right (usernames ignore case, passwords do not)."""
        for name, pw in self.config.users.items():
            if name.lower() == username.lower() and secrets.compare_digest(str(pw), str(password)):
                return name
        return None

    def _alive(self, tok: Token, now: float) -> bool:
        return (tok.generation == self.faults.token_generation
                and now - tok.last_used <= self.config.token_idle_seconds
                and now - tok.created <= self.config.token_absolute_seconds)

    def _purge(self, now: float) -> None:
        dead = [v for v, t in self._tokens.items() if not self._alive(t, now)]
        for v in dead:
            del self._tokens[v]

    def issue(self, username: str, location_id: int = 1) -> Token:
        now = time.time()
        with self._lock:
            self._purge(now)
            live = sum(1 for t in self._tokens.values() if t.username == username)
            if live >= self.config.max_tokens_per_user:
                raise TokenCapReached(username)
            tok = Token(secrets.token_hex(16), username, now, now, self.faults.token_generation, location_id)
            self._tokens[tok.value] = tok
            return tok

    def use(self, value: str) -> Token | None:
        """The live token (its idle clock restarts), or None when unknown/expired."""
        now = time.time()
        with self._lock:
            tok = self._tokens.get(value)
            if tok is None:
                return None
            if not self._alive(tok, now):
                del self._tokens[value]
                return None
            tok.last_used = now
            return tok

    def peek(self, value: str) -> Token | None:
        with self._lock:
            return self._tokens.get(value)

    def revoke(self, value: str) -> bool:
        with self._lock:
            return self._tokens.pop(value, None) is not None

    def live_count(self, username: str | None = None) -> int:
        now = time.time()
        with self._lock:
            self._purge(now)
            return sum(1 for t in self._tokens.values() if username is None or t.username == username)
