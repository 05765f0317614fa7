"""PACS connections: name, DICOMweb base URL, authentication kind, user name and TLS options.

They are kept in `pacs_connections.json` in the user's config folder. Secrets (passwords,
tokens) are never part of a connection: they live in the system keyring or are asked each time
(`viewer.io.pacs.credentials`), so the file can be read by anyone without harm.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from urllib.parse import urlsplit

from viewer.errors import LoadError, SaveError
from viewer.io.atomic_save import atomic_write_text

AUTH_KINDS = ("none", "basic", "bearer")
DEFAULT_TIMEOUT_S = 30.0
CONNECTIONS_FILE = "pacs_connections.json"


@dataclass
class PacsConnection:
    """One DICOMweb server. `url` is the service root that QIDO, WADO and STOW share
    (e.g. https://pacs.example.org/dicom-web)."""

    name: str
    url: str
    auth: str = "none"  # one of AUTH_KINDS
    username: str = ""
    verify_tls: bool = True  # off only on the user's explicit choice
    ca_bundle: str = ""  # a PEM file that signs the server's certificate (hospital CA)
    timeout_s: float = DEFAULT_TIMEOUT_S

    def __post_init__(self) -> None:
        self.url = self.url.strip().rstrip("/")

    def validate(self) -> None:
        """Raise LoadError with the reason when the connection cannot be used."""
        parts = urlsplit(self.url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise LoadError("the server address must start with http:// or https://", self.url)
        if parts.username or parts.password:
            # a password in the URL would end up in the settings file and the logs
            raise LoadError("put the user name in the User field, not in the address", self.url)
        if self.auth not in AUTH_KINDS:
            raise LoadError(f"authentication must be one of {', '.join(AUTH_KINDS)}", self.url)
        if self.auth == "basic" and not self.username:
            raise LoadError("HTTP basic authentication needs a user name", self.url)
        if self.ca_bundle and not os.path.isfile(self.ca_bundle):
            raise LoadError("the CA bundle file does not exist", self.ca_bundle)
        if not self.timeout_s > 0:
            raise LoadError("the timeout must be a positive number of seconds", self.url)

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> PacsConnection:
        known = {f.name for f in fields(cls)}
        values = {k: v for k, v in data.items() if k in known}
        if not isinstance(values.get("name"), str) or not isinstance(values.get("url"), str):
            raise ValueError("a connection needs a name and a url")
        return cls(**values)


def config_dir() -> Path:
    """The per-user config folder (RADLABEL_DATA_DIR overrides it, as for logs and settings)."""
    override = os.environ.get("RADLABEL_DATA_DIR")
    if override:
        return Path(override)
    from platformdirs import user_config_dir

    return Path(user_config_dir("RadLabel", appauthor=False))


def load_connections(path: str | os.PathLike | None = None) -> list[PacsConnection]:
    """The saved connections (none when the file does not exist yet)."""
    p = Path(path) if path is not None else config_dir() / CONNECTIONS_FILE
    if not p.is_file():
        return []
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
        return [PacsConnection.from_dict(d) for d in data["connections"]]
    except (OSError, ValueError, KeyError, TypeError, RecursionError) as e:
        raise LoadError(f"cannot read the PACS connections ({type(e).__name__}: {e})", p) from None


def save_connections(
    connections: list[PacsConnection], path: str | os.PathLike | None = None
) -> Path:
    """Write the connections atomically; they hold no secrets by construction."""
    p = Path(path) if path is not None else config_dir() / CONNECTIONS_FILE
    names = [c.name for c in connections]
    if len(set(names)) != len(names):
        raise SaveError("two PACS connections have the same name", p)
    p.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps({"connections": [c.to_dict() for c in connections]}, indent=2)
    return atomic_write_text(p, text + "\n")
