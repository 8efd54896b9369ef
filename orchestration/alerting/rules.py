"""The alert rules (data/alerting/rules.yaml): which signal alerts which team, at which priority, through
which channels; the ISA-18.2 management settings; the live scoring settings; the channels' retries.

Validated on load: every mistake is a ``RulesError`` naming the file and the field
(``rules[3].when.minutes``), so a wrong file stops the alerting process at start, never at 3 a.m. when the
first alert should go out.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from orchestration.distribution.config import Retries
from orchestration.settings import DATA_DIR

RULES_YAML = DATA_DIR / "alerting" / "rules.yaml"
ROLES_YAML = DATA_DIR / "reporting" / "roles.yaml"
PRIORITIES = ("critical", "high", "low")
CHANNELS = ("email", "webhook", "mqtt")
# signal -> the conditions its rules may state (``when``), each with its type
SIGNALS: dict[str, dict[str, type]] = {
    "sensor_anomaly": {"priority": list},
    "ingestion_silence": {"minutes": float},
    "ingestion_lag": {"seconds": float},
    "spc_rule": {"characteristic": list, "priority": list},
    "rework_ratio": {"above": float},
    "scrap_ratio": {"above": float},
    "machine_down": {"minutes": float},
    "blocked_day": {},
    "rca_case": {},
}
LIVE_SIGNALS = ("sensor_anomaly", "ingestion_silence", "ingestion_lag")


class RulesError(ValueError):
    """A rules file that cannot be used, with the file and the field at fault."""


@dataclass(frozen=True)
class Team:
    name: str
    email: tuple[str, ...] = ()
    webhook_env: str | None = None  # the environment variable holding the webhook URL (it carries a token)
    mqtt_topic: str | None = None


@dataclass(frozen=True)
class Rule:
    name: str
    signal: str
    team: str
    priority: str
    channels: tuple[str, ...]
    when: dict = field(default_factory=dict)

    def matches(self, signal: str, facts: dict) -> bool:
        """Whether a signal of kind ``signal`` with ``facts`` (priority, characteristic, minutes, ...) is
        this rule's: every stated condition holds."""
        if signal != self.signal:
            return False
        for key, wanted in self.when.items():
            have = facts.get(key)
            if have is None:
                return False
            if key in ("priority", "characteristic"):
                if have not in wanted:
                    return False
            elif key == "above":
                if not have > wanted:
                    return False
            elif not have >= wanted:  # minutes, seconds: at least
                return False
        return True


@dataclass(frozen=True)
class Management:
    renotify_minutes: dict[str, float]  # priority -> minutes (absent: never re-notified)
    flood_max_per_10_min: int = 5
    close_after_normal_minutes: float = 60.0


@dataclass(frozen=True)
class LiveSettings:
    threshold_sigmas: float = 5.0
    critical_sigmas: float = 7.0
    on_delay_readings: int = 3
    off_delay_readings: int = 5
    history_readings: int = 240
    min_history_readings: int = 60
    stuck_readings: int = 20
    critical_silence_minutes: float = 30.0


# An alert is worth seconds, a report minutes: quicker retries than the reports' (data/alerting/rules.yaml).
ALERT_RETRIES = {"attempts": 6, "backoff_s": 2.0, "max_backoff_s": 120.0}


@dataclass(frozen=True)
class AlertRules:
    teams: dict[str, Team]
    rules: tuple[Rule, ...]
    management: Management
    live: LiveSettings
    retries: Retries
    mqtt_host: str = "127.0.0.1"
    mqtt_port: int = 1883
    source: str = ""

    def routes(self, signal: str, facts: dict) -> list[Rule]:
        """The rules a signal matches: at most one per team (the first in the file wins)."""
        chosen: dict[str, Rule] = {}
        for rule in self.rules:
            if rule.team not in chosen and rule.matches(signal, facts):
                chosen[rule.team] = rule
        return list(chosen.values())

    def silence_minutes(self) -> float | None:
        """The shortest silence any rule alerts on (None: no rule on silence)."""
        found = [r.when.get("minutes", 0.0) for r in self.rules if r.signal == "ingestion_silence"]
        return min(found) if found else None

    def lag_seconds(self) -> float | None:
        found = [r.when.get("seconds", 0.0) for r in self.rules if r.signal == "ingestion_lag"]
        return min(found) if found else None


def _fail(path: Path, where: str, message: str) -> RulesError:
    return RulesError(f"{path}: {where}: {message}")


def _mapping(path: Path, where: str, value: object) -> dict:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise _fail(path, where, f"must be a mapping, not {type(value).__name__}")
    return value


def _only(path: Path, where: str, spec: dict, allowed: set[str]) -> None:
    unknown = sorted(set(spec) - allowed)
    if unknown:
        raise _fail(path, where, f"unknown keys {unknown} (allowed: {sorted(allowed)})")


def _number(path: Path, where: str, value: object, positive: bool = True) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _fail(path, where, f"must be a number, not {value!r}")
    if positive and value <= 0:
        raise _fail(path, where, f"must be above 0, not {value!r}")
    return float(value)


def known_roles(roles_path: Path = ROLES_YAML) -> set[str]:
    raw = yaml.safe_load(Path(roles_path).read_text()) or {}
    return set((raw.get("roles") or {}).keys())


def load_rules(path: Path | None = None, roles_path: Path = ROLES_YAML) -> AlertRules:
    """Read and check the rules file (the plant's is settings.alert_rules_path; default: data/alerting)."""
    path = Path(path or RULES_YAML)
    try:
        raw = yaml.safe_load(path.read_text())
    except FileNotFoundError:
        raise RulesError(f"{path}: no such rules file") from None
    except yaml.YAMLError as error:
        raise RulesError(f"{path}: not valid YAML: {error}") from None
    raw = _mapping(path, "(top level)", raw)
    _only(path, "(top level)", raw, {"teams", "rules", "management", "live", "mqtt", "retries"})
    roles = known_roles(roles_path)

    teams = {}
    for name, spec in _mapping(path, "teams", raw.get("teams")).items():
        where = f"teams.{name}"
        if name not in roles:
            raise _fail(path, where, f"is not a role of {roles_path.name} ({', '.join(sorted(roles))})")
        spec = _mapping(path, where, spec)
        _only(path, where, spec, {"email", "webhook", "mqtt"})
        email = spec.get("email") or []
        if not isinstance(email, list) or not all(isinstance(a, str) and "@" in a for a in email):
            raise _fail(path, f"{where}.email", "must be a list of mail addresses")
        webhook = _mapping(path, f"{where}.webhook", spec.get("webhook"))
        _only(path, f"{where}.webhook", webhook, {"url_env"})
        if webhook and not (isinstance(webhook.get("url_env"), str) and webhook["url_env"].isupper()):
            raise _fail(
                path,
                f"{where}.webhook.url_env",
                "must name an environment variable (upper case), e.g. GIGAFACTORY_ALERT_WEBHOOK_"
                f"{name.upper()}: the URL carries a token and is never written in this file",
            )
        mqtt = _mapping(path, f"{where}.mqtt", spec.get("mqtt"))
        _only(path, f"{where}.mqtt", mqtt, {"topic"})
        topic = mqtt.get("topic")
        if mqtt and not (isinstance(topic, str) and topic and not set(topic) & {"#", "+"}):
            raise _fail(path, f"{where}.mqtt.topic", "must be a topic without wildcards (# +)")
        teams[name] = Team(name, tuple(email), webhook.get("url_env"), topic)
    if not teams:
        raise _fail(path, "teams", "at least one team is needed")

    rules: list[Rule] = []
    raw_rules = raw.get("rules")
    if not isinstance(raw_rules, list) or not raw_rules:
        raise _fail(path, "rules", "must be a non-empty list")
    names: set[str] = set()
    for n, spec in enumerate(raw_rules):
        where = f"rules[{n}]"
        spec = _mapping(path, where, spec)
        _only(path, where, spec, {"name", "signal", "when", "team", "priority", "channels"})
        name = spec.get("name") or f"rule-{n}"
        if name in names:
            raise _fail(path, f"{where}.name", f"{name!r} is used twice")
        names.add(name)
        signal = spec.get("signal")
        if signal not in SIGNALS:
            raise _fail(path, f"{where}.signal", f"{signal!r} is not one of {', '.join(SIGNALS)}")
        team = spec.get("team")
        if team not in teams:
            raise _fail(path, f"{where}.team", f"{team!r} is not a team of this file ({', '.join(teams)})")
        priority = spec.get("priority")
        if priority not in PRIORITIES:
            raise _fail(path, f"{where}.priority", f"{priority!r} is not one of {', '.join(PRIORITIES)}")
        channels = spec.get("channels")
        if not isinstance(channels, list) or not channels or not set(channels) <= set(CHANNELS):
            raise _fail(path, f"{where}.channels", f"must be a non-empty list of {', '.join(CHANNELS)}")
        for channel in channels:
            configured = {
                "email": teams[team].email,
                "webhook": teams[team].webhook_env,
                "mqtt": teams[team].mqtt_topic,
            }[channel]
            if not configured:
                raise _fail(path, f"{where}.channels", f"team {team!r} has no {channel} in teams.{team}")
        when = _mapping(path, f"{where}.when", spec.get("when"))
        allowed = SIGNALS[signal]
        _only(path, f"{where}.when", when, set(allowed))
        checked = {}
        for key, value in when.items():
            if allowed[key] is list:
                if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
                    raise _fail(path, f"{where}.when.{key}", "must be a non-empty list of names")
                if key == "priority" and not set(value) <= set(PRIORITIES):
                    raise _fail(path, f"{where}.when.priority", f"must list only {', '.join(PRIORITIES)}")
                checked[key] = tuple(value)
            else:
                checked[key] = _number(path, f"{where}.when.{key}", value)
        rules.append(Rule(name, signal, team, priority, tuple(channels), checked))

    management = _mapping(path, "management", raw.get("management"))
    _only(path, "management", management, {"renotify_minutes", "flood", "close_after_normal_minutes"})
    renotify = _mapping(path, "management.renotify_minutes", management.get("renotify_minutes"))
    for key, value in renotify.items():
        if key not in PRIORITIES:
            raise _fail(path, f"management.renotify_minutes.{key}", f"not one of {', '.join(PRIORITIES)}")
        _number(path, f"management.renotify_minutes.{key}", value)
    flood = _mapping(path, "management.flood", management.get("flood"))
    _only(path, "management.flood", flood, {"max_per_10_min"})
    flood_max = flood.get("max_per_10_min", 5)
    if not isinstance(flood_max, int) or isinstance(flood_max, bool) or flood_max < 1:
        raise _fail(
            path, "management.flood.max_per_10_min", f"must be a whole number >= 1, not {flood_max!r}"
        )
    close_after = _number(
        path, "management.close_after_normal_minutes", management.get("close_after_normal_minutes", 60)
    )

    live = _mapping(path, "live", raw.get("live"))
    _only(path, "live", live, set(LiveSettings.__dataclass_fields__))
    live_values = {}
    for key, value in live.items():
        number = _number(path, f"live.{key}", value)
        live_values[key] = int(number) if isinstance(getattr(LiveSettings, key), int) else number
    mqtt = _mapping(path, "mqtt", raw.get("mqtt"))
    _only(path, "mqtt", mqtt, {"host", "port"})
    retries = _mapping(path, "retries", raw.get("retries"))
    _only(path, "retries", retries, {"attempts", "backoff_s", "max_backoff_s"})
    for key, value in retries.items():
        _number(path, f"retries.{key}", value)
    return AlertRules(
        teams=teams,
        rules=tuple(rules),
        management=Management({k: float(v) for k, v in renotify.items()}, int(flood_max), float(close_after)),
        live=LiveSettings(**live_values),
        retries=Retries(
            **{**ALERT_RETRIES, **{k: (int(v) if k == "attempts" else float(v)) for k, v in retries.items()}}
        ),
        mqtt_host=os.environ.get("GIGAFACTORY_ALERT_MQTT_HOST") or str(mqtt.get("host", "127.0.0.1")),
        mqtt_port=int(os.environ.get("GIGAFACTORY_ALERT_MQTT_PORT") or mqtt.get("port", 1883)),
        source=str(path),
    )
