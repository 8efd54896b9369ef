"""Recipients and channels per role (data/reporting/distribution.yaml) and the SMTP settings (environment)."""

from __future__ import annotations

import base64
import os
from dataclasses import dataclass
from pathlib import Path

import yaml

from orchestration.settings import DATA_DIR

DISTRIBUTION_YAML = DATA_DIR / "reporting" / "distribution.yaml"


@dataclass(frozen=True)
class Retries:
    attempts: int = 4
    backoff_s: float = 30.0
    max_backoff_s: float = 300.0

    def delay(self, attempt: int) -> float:
        """The wait after failed attempt ``attempt`` (1, 2, ...): exponential, bounded."""
        return min(self.backoff_s * 2 ** (attempt - 1), self.max_backoff_s)

    def delays(self) -> list[float]:
        """Waits before the 2nd, 3rd, ... attempt."""
        return [self.delay(attempt) for attempt in range(1, self.attempts)]


@dataclass(frozen=True)
class RoleRecipients:
    role: str
    email: tuple[str, ...]
    shared_folder: bool


@dataclass(frozen=True)
class Distribution:
    roles: dict[str, RoleRecipients]
    retries: Retries


def load_distribution(path: Path = DISTRIBUTION_YAML) -> Distribution:
    raw = yaml.safe_load(Path(path).read_text()) or {}
    roles = {}
    for role, spec in (raw.get("roles") or {}).items():
        unknown = set(spec or {}) - {"email", "shared_folder"}
        if unknown:
            raise ValueError(f"{path}: roles.{role} has unknown keys {sorted(unknown)}")
        roles[role] = RoleRecipients(
            role, tuple((spec or {}).get("email") or ()), bool((spec or {}).get("shared_folder", False))
        )
    return Distribution(roles, Retries(**(raw.get("retries") or {})))


class Secret:
    """A password that never shows: its repr and str are masked, ``reveal()`` hands it to the one call that
    needs it (the SMTP login)."""

    __slots__ = ("_value",)

    def __init__(self, value: str):
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('***')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


STARTTLS_MODES = ("auto", "require", "never")


@dataclass(frozen=True)
class SmtpSettings:
    """Where reports are mailed. ``starttls``: ``auto`` upgrades when the server offers STARTTLS and
    otherwise sends only without a login (never a password in clear); ``require`` refuses a server without
    it; ``never`` stays in clear, the one setting that sends a password unencrypted (a relay on loopback)."""

    host: str
    port: int
    sender: str
    user: str | None
    password: Secret | None
    starttls: str  # auto | require | never

    @classmethod
    def from_environment(cls) -> SmtpSettings | None:
        """None when no SMTP host is configured (mail deliveries are then logged as failed, not tried)."""
        host = os.environ.get("GIGAFACTORY_SMTP_HOST")
        if not host:
            return None
        starttls = os.environ.get("GIGAFACTORY_SMTP_STARTTLS", "auto")
        starttls = "never" if starttls == "off" else starttls  # its spelling before "never"
        if starttls not in STARTTLS_MODES:
            raise ValueError(f"GIGAFACTORY_SMTP_STARTTLS={starttls!r}: one of {', '.join(STARTTLS_MODES)}")
        password = os.environ.get("GIGAFACTORY_SMTP_PASSWORD")
        return cls(
            host=host,
            port=int(os.environ.get("GIGAFACTORY_SMTP_PORT", "587")),
            sender=os.environ.get("GIGAFACTORY_SMTP_SENDER", "reports@gigafactory.invalid"),
            user=os.environ.get("GIGAFACTORY_SMTP_USER") or None,
            password=Secret(password) if password else None,
            starttls=starttls,
        )

    def redact(self, text: str) -> str:
        """``text`` (an error from the server or the library) with the password and the encodings AUTH
        sends it in masked: what is logged never carries it, whatever a server echoes."""
        if self.password is None:
            return text
        secret = self.password.reveal()
        login = f"\0{self.user or ''}\0{secret}"
        for form in sorted(
            {secret, _base64(secret), _base64(login), repr(secret)[1:-1]}, key=len, reverse=True
        ):
            text = text.replace(form, "***")
        return text


def _base64(text: str) -> str:
    return base64.b64encode(text.encode("utf-8")).decode("ascii")


def shared_folder(reports_dir: Path) -> Path:
    value = os.environ.get("GIGAFACTORY_SHARED_FOLDER")
    return Path(value).expanduser().resolve() if value else Path(reports_dir) / "shared"
