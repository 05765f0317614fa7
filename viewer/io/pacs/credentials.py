"""Secrets for PACS connections: the system keyring, the environment, or a prompt; never a file.

A password or token is looked up in this order: an explicit value (a prompt's answer), the
environment (`RADLABEL_PACS_PASSWORD`, or the variable named by `--token-env`), the keyring.
Nothing here writes a secret anywhere but the keyring; when no keyring is available the
secret is only held in memory for the session and asked again next time.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from dataclasses import dataclass

log = logging.getLogger(__name__)

PASSWORD_ENV = "RADLABEL_PACS_PASSWORD"
TOKEN_USER = "(bearer token)"  # keyring "user" under which a connection's token is kept


def keyring_service(url: str) -> str:
    """The keyring service name of a server (one entry per server and user)."""
    return f"RadLabel PACS {url.rstrip('/')}"


@dataclass
class Credentials:
    """What authenticates one session: HTTP basic (username + password) or a bearer token."""

    username: str = ""
    password: str = ""
    token: str = ""

    def __repr__(self) -> str:  # never print a secret into a log or a traceback
        return f"Credentials(username={self.username!r}, password=***, token=***)"


def keyring_get(url: str, user: str) -> str | None:
    """The stored secret, or None when there is none or no keyring works on this system."""
    try:
        import keyring

        return keyring.get_password(keyring_service(url), user)
    except Exception as e:  # no backend (headless Linux without a secret service), locked...
        log.info("keyring lookup for %s failed: %s", url, e)
        return None


def keyring_set(url: str, user: str, secret: str) -> bool:
    """Store `secret` in the keyring; False (and nothing written anywhere) when it cannot."""
    if not keyring_available():
        return False
    try:
        import keyring

        keyring.set_password(keyring_service(url), user, secret)
        return True
    except Exception as e:
        log.info("keyring store for %s failed: %s", url, e)
        return False


def keyring_delete(url: str, user: str) -> None:
    try:
        import keyring

        keyring.delete_password(keyring_service(url), user)
    except Exception as e:  # nothing stored, or no keyring: nothing to forget
        log.info("keyring delete for %s: %s", url, e)


def keyring_available() -> bool:
    """True when a real keyring backend is configured: not the 'fail' or 'null' one, and not
    keyrings.alt's plain-text or unencrypted files (a secret in clear text on disk)."""
    try:
        import keyring

        backend = keyring.get_keyring()
    except Exception:
        return False
    kind = type(backend)
    if kind.__module__.split(".")[-1] in ("fail", "null"):
        return False
    if "plaintext" in kind.__name__.lower() or "unencrypted" in kind.__name__.lower():
        return False
    return getattr(backend, "priority", 1) > 0


def resolve_password(
    url: str, username: str, ask: Callable[[], str | None] | None = None
) -> str | None:
    """A password for `username` at `url`: environment, then keyring, then `ask()`."""
    env = os.environ.get(PASSWORD_ENV)
    if env:
        return env
    stored = keyring_get(url, username)
    if stored:
        return stored
    return ask() if ask is not None else None


def resolve_token(
    url: str, env_var: str | None = None, ask: Callable[[], str | None] | None = None
) -> str | None:
    """A bearer token: the named environment variable, then the keyring, then `ask()`."""
    if env_var:
        value = os.environ.get(env_var)
        if value:
            return value
    stored = keyring_get(url, TOKEN_USER)
    if stored:
        return stored
    return ask() if ask is not None else None
