"""Who reads which report: roles, their sections and KPIs, the figure classes each may see, and KPI targets.

Read from ``data/reporting/roles.yaml`` and ``data/reporting/targets.yaml``; a typo (an unknown section, KPI
or figure class) is an error naming the file, so a role never silently loses or gains a figure.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import yaml

from orchestration.settings import DATA_DIR

ROLES_PATH = DATA_DIR / "reporting" / "roles.yaml"
TARGETS_PATH = DATA_DIR / "reporting" / "targets.yaml"


@dataclass(frozen=True)
class KpiTarget:
    name: str
    label: str
    target: float | None  # None: compared with the trailing 30 days only
    better: Literal["higher", "lower"]
    unit: Literal["ratio", "count", "seconds", "money"]
    figure_class: str | None = None  # a sensitive class (cost, per_operator) or None: anyone may see it


@dataclass(frozen=True)
class Role:
    name: str
    title: str
    may_see: frozenset[str]
    kpis: tuple[str, ...]
    sections: tuple[str, ...]

    def sees(self, figure_class: str | None) -> bool:
        return figure_class is None or figure_class in self.may_see


@dataclass(frozen=True)
class HandoverRules:
    degraded_oee_share: float = 0.7
    open_within_min: float = 30.0


@dataclass(frozen=True)
class ReportingConfig:
    roles: dict[str, Role]
    targets: dict[str, KpiTarget]
    figure_classes: frozenset[str]
    handover: HandoverRules


def _read(path: Path) -> dict:
    with open(path, encoding="utf-8") as handle:
        return yaml.safe_load(handle) or {}


def load_reporting_config(
    roles_path: Path = ROLES_PATH, targets_path: Path = TARGETS_PATH, sections: frozenset[str] | None = None
) -> ReportingConfig:
    """Both files, validated against each other (and against the known section names when given)."""
    roles_doc, targets_doc = _read(roles_path), _read(targets_path)
    classes = frozenset(roles_doc.get("figure_classes", []))
    targets: dict[str, KpiTarget] = {}
    for name, spec in (targets_doc.get("kpis") or {}).items():
        target = KpiTarget(name=name, **spec)
        if target.figure_class is not None and target.figure_class not in classes:
            raise ValueError(f"{targets_path}: kpis.{name}.figure_class {target.figure_class!r} is unknown")
        if target.better not in ("higher", "lower"):
            raise ValueError(f"{targets_path}: kpis.{name}.better must be higher or lower")
        targets[name] = target
    roles: dict[str, Role] = {}
    for name, spec in (roles_doc.get("roles") or {}).items():
        role = Role(
            name=name,
            title=spec.get("title", name.title()),
            may_see=frozenset(spec.get("may_see") or []),
            kpis=tuple(spec.get("kpis") or []),
            sections=tuple(spec.get("sections") or []),
        )
        for problem, unknown in (
            ("may_see", role.may_see - classes),
            ("kpis", set(role.kpis) - set(targets)),
            ("sections", set(role.sections) - sections if sections is not None else set()),
        ):
            if unknown:
                raise ValueError(f"{roles_path}: roles.{name}.{problem} names unknown {sorted(unknown)}")
        roles[name] = role
    return ReportingConfig(
        roles=roles,
        targets=targets,
        figure_classes=classes,
        handover=HandoverRules(**(targets_doc.get("handover") or {})),
    )
