"""Recipients and channels per role (data/reporting/distribution.yaml) and the SMTP settings (environment)."""

from __future__ import annotations

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

    def delays(self) -> list[float]:
        """Waits before the 2nd, 3rd, ... attempt: exponential, bounded."""
        return [min(self.backoff_s * 2**n, self.max_backoff_s) for n in range(self.attempts - 1)]


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


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int
    sender: str
    user: str | None
    password: str | None
    starttls: str  # auto | require | off

    @classmethod
    def from_environment(cls) -> SmtpSettings | None:
        """None when no SMTP host is configured (mail deliveries are then logged as failed, not tried)."""
        host = os.environ.get("GIGAFACTORY_SMTP_HOST")
        if not host:
            return None
        starttls = os.environ.get("GIGAFACTORY_SMTP_STARTTLS", "auto")
        if starttls not in ("auto", "require", "off"):
            raise ValueError(f"GIGAFACTORY_SMTP_STARTTLS={starttls!r}: one of auto, require, off")
        return cls(
            host=host,
            port=int(os.environ.get("GIGAFACTORY_SMTP_PORT", "587")),
            sender=os.environ.get("GIGAFACTORY_SMTP_SENDER", "reports@gigafactory.invalid"),
            user=os.environ.get("GIGAFACTORY_SMTP_USER") or None,
            password=os.environ.get("GIGAFACTORY_SMTP_PASSWORD") or None,
            starttls=starttls,
        )


def shared_folder(reports_dir: Path) -> Path:
    value = os.environ.get("GIGAFACTORY_SHARED_FOLDER")
    return Path(value).expanduser().resolve() if value else Path(reports_dir) / "shared"
