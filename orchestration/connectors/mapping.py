"""A source mapping: how one plant export (CSV, Parquet, XES or OCEL 2.0) maps onto the production events.

One YAML file per source, committed under ``data/mappings/``. It names the file(s), the columns that hold
the batch (case), the step (activity), the machine and the times, and the plant's timezone, because MES
exports rarely carry an offset. A typo must fail loudly, so unknown keys are errors that name the file.
Optional keys say what the reader cannot guess: the file's encoding (UTF-8 unless declared), a record size
limit and whether quoted CSV fields may span lines, and what a naive stamp in a DST change means.
"""

from __future__ import annotations

import codecs
import glob
import os
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    field_validator,
    model_validator,
)

from orchestration.connectors.tabular import MAX_LINE_BYTES
from orchestration.connectors.timestamps import Ambiguous, Nonexistent

# Set it to a folder that holds the plant exports and every mapping looks there for its file name instead of
# its own relative path: the same committed mapping then works on a laptop, in CI and on the plant server.
SOURCE_DIR_ENV = "GIGAFACTORY_SOURCE_DIR"

# A mapped column is one source column, or a list of them of which the first non-empty wins. The list is
# for OCEL 2.0, where every event type keeps its resource in an attribute of its own (``po_creator``, ...).
Columns = str | list[str]

# Defaults where the format itself names the column (XES standard extensions; our flattened OCEL view).
_FORMAT_DEFAULTS: dict[str, dict[str, str]] = {
    "xes": {
        "case_id": "case:concept:name",
        "activity": "concept:name",
        "end_ts": "time:timestamp",
        "machine": "org:resource",
    },
    "ocel": {"case_id": "ocel:case", "activity": "ocel:activity", "end_ts": "ocel:timestamp"},
}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ColumnMap(_Strict):
    """Source column(s) for each production-event field; unmapped optional fields stay null (or default)."""

    case_id: Columns | None = None  # the batch: the process-mining case
    activity: Columns | None = None  # the route step
    start_ts: Columns | None = None  # at least one of start_ts / end_ts; with one, the step has no duration
    end_ts: Columns | None = None
    machine: Columns | None = None  # the machine (resource) that performed the step; optional (see below)
    product: Columns | None = None
    crew: Columns | None = None
    line: Columns | None = None
    quantity: Columns | None = None  # produced_qty; 1 per event when unmapped
    scrap_qty: Columns | None = None
    good_qty: Columns | None = None  # used when scrap_qty is unmapped: scrap = produced - good

    @field_validator("*")
    @classmethod
    def _names_not_empty(cls, value: Columns | None) -> Columns | None:
        names = [value] if isinstance(value, str) else (value or [])
        if value is not None and (not names or any(not name.strip() for name in names)):
            raise ValueError("a mapped column name must not be empty")
        return value


class FactorySettings(_Strict):
    """The plant's factory day: it starts at ``day_start_hour`` local time in ``timezone``."""

    timezone: str | None = None  # None: the mapping's timezone
    day_start_hour: int = Field(6, ge=0, le=23)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str | None) -> str | None:
        return None if value is None else _check_zone(value)


class SourceMapping(_Strict):
    format: Literal["csv", "parquet", "xes", "ocel"]
    path: str  # relative to the mapping file's folder unless absolute; may be a glob
    columns: ColumnMap = ColumnMap()
    timestamp_format: str | None = None  # strftime pattern; None: ISO 8601
    timezone: str = "UTC"  # IANA zone of naive stamps; stamps with an offset are converted, not relabelled
    # Naive stamps the plant's clock reads twice (autumn) or never (spring): reject (quarantine, the default),
    # or read the first / second reading of a repeated hour, or a skipped one moved forward by the gap.
    ambiguous: Ambiguous = "reject"
    nonexistent: Nonexistent = "reject"
    delimiter: str = Field(",", min_length=1, max_length=1)  # CSV only
    encoding: str = "utf-8"  # CSV and OCEL JSON: the codec of the file's bytes (XES declares its own)
    max_line_bytes: int = Field(MAX_LINE_BYTES, gt=0)  # CSV only: a longer record is quarantined
    multiline_fields: bool = False  # CSV only: quoted fields may hold line breaks (else: an unclosed quote)
    # What to do with a repeated event (same case, activity, machine, start and end): quarantine all but the
    # first, or keep every copy. Unset: by the source's kind. A process-mining log (XES, OCEL) keeps them, as
    # pm4py does: repeated events there are real repetitions (a help desk's two identical updates), and
    # dropping them changes self-loops and variants. An MES export (CSV, Parquet) quarantines them: there a
    # repeated row is almost always a re-sent record, and counted twice it doubles the output. Either way the
    # repeats are counted (LoadedEvents.duplicates).
    duplicates: Literal["quarantine", "keep"] | None = None
    # Whether an event needs a machine (resource). Office and service logs have none, and many process-mining
    # logs leave it out on some events: then the step keeps a null machine instead of being quarantined.
    # Unset: required when ``columns.machine`` is mapped (the warehouse's staging needs a machine per event),
    # optional when it is not.
    machine_optional: bool | None = None
    # The activity as a classifier over several attributes, their values joined by "+" (pm4py's and XES's
    # classifier notation), e.g. [concept:name, lifecycle:transition], the XES standard classifier: then a
    # step's start and complete are different activities. Unset: the activity is ``columns.activity``.
    classifier: list[str] | None = None
    # XES only. single: every XES event is one (instantaneous) step, as pm4py reads a log. pair: a step is
    # the events of one activity instance (XES lifecycle model): "start" opens it, "complete" closes it
    # (matched by concept:instance, else resource, else the oldest open start); schedule, assign, reassign,
    # suspend, resume, withdraw, ate_abort, pi_abort, autoskip, manualskip and unknown transitions are part of
    # a step's life, not steps, and are counted as folded (LoadedEvents.lifecycle_folded), not quarantined; a
    # complete without a start is a step without duration; a start never completed is quarantined.
    lifecycle: Literal["single", "pair"] = "single"
    case_object_type: str | None = None  # OCEL only: the object type whose objects are the cases (batches)
    factory: FactorySettings = FactorySettings()

    _base_dir: Path = PrivateAttr(default_factory=Path.cwd)
    _mapping_file: Path | None = PrivateAttr(default=None)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        return _check_zone(value)

    @field_validator("encoding")
    @classmethod
    def _known_encoding(cls, value: str) -> str:
        try:
            name = codecs.lookup(value).name
        except LookupError:
            raise ValueError(f"unknown encoding {value!r}") from None
        sample = '\n\r,;\t"'
        if name not in ("utf-8", "utf-8-sig") and sample.encode(value, "replace") != sample.encode():
            raise ValueError(f"encoding {value!r} is not ASCII-compatible (re-encode the export as UTF-8)")
        return value

    @model_validator(mode="before")
    @classmethod
    def _format_defaults(cls, data: object) -> object:
        # XES and OCEL name their own case, activity and time attributes: the mapping need not repeat them.
        if isinstance(data, dict) and isinstance(data.get("columns") or {}, dict):
            defaults = _FORMAT_DEFAULTS.get(str(data.get("format")), {})
            data = {**data, "columns": {**defaults, **(data.get("columns") or {})}}
        return data

    @model_validator(mode="after")
    def _complete_for_format(self) -> SourceMapping:
        columns = self.columns
        if self.format == "xes" and self.lifecycle == "pair" and columns.start_ts is not None:
            raise ValueError("columns.start_ts: with lifecycle 'pair' the start comes from the start event")
        if self.format != "xes" and self.lifecycle != "single":
            raise ValueError("lifecycle: only XES sources have lifecycle transitions")
        if self.format == "ocel" and not self.case_object_type:
            raise ValueError("case_object_type: required for an OCEL source")
        if self.format != "ocel" and self.case_object_type:
            raise ValueError("case_object_type: only OCEL sources have object types")
        if self.format in ("parquet", "xes") and "encoding" in self.model_fields_set:
            raise ValueError("encoding: only CSV and OCEL JSON sources take one (XES declares its own)")
        for name in ("max_line_bytes", "multiline_fields"):
            if self.format != "csv" and name in self.model_fields_set:
                raise ValueError(f"{name}: only CSV sources have lines")
        for name in ("case_id", "activity"):
            if getattr(columns, name) is None and not (name == "activity" and self.classifier):
                raise ValueError(f"columns.{name}: required")
        classifier = self.classifier
        if classifier is not None and (not classifier or any(not name.strip() for name in classifier)):
            raise ValueError("classifier: a list of one or more attribute names")
        if self.machine_optional is False and columns.machine is None:
            raise ValueError("machine_optional: false needs columns.machine")
        if columns.start_ts is None and columns.end_ts is None:
            raise ValueError("columns.start_ts / columns.end_ts: map at least one of them")
        return self

    @property
    def duplicates_policy(self) -> Literal["quarantine", "keep"]:
        """``duplicates``, or its default for the source's kind (see the field)."""
        if self.duplicates is not None:
            return self.duplicates
        return "keep" if self.format in ("xes", "ocel") else "quarantine"

    @property
    def needs_machine(self) -> bool:
        if self.machine_optional is not None:
            return not self.machine_optional
        return self.columns.machine is not None

    @property
    def factory_timezone(self) -> str:
        return self.factory.timezone or self.timezone

    @property
    def day_start_hour(self) -> int:
        return self.factory.day_start_hour

    @property
    def origin(self) -> str:
        """The mapping file, for error messages."""
        return str(self._mapping_file) if self._mapping_file else "<mapping>"

    def source_files(self) -> list[Path]:
        """The files the mapping reads, sorted; raises naming the mapping and the pattern when none exists."""
        source_dir = os.environ.get(SOURCE_DIR_ENV)
        if source_dir:
            pattern = Path(source_dir).expanduser() / Path(self.path).name
        else:
            pattern = Path(self.path) if Path(self.path).is_absolute() else self._base_dir / self.path
        pattern = Path(os.path.normpath(pattern))
        if glob.has_magic(str(pattern)):
            files = sorted(Path(p) for p in glob.glob(str(pattern)) if Path(p).is_file())
        else:
            files = [pattern] if pattern.is_file() else []
        if not files:
            raise ValueError(f"{self.origin}: field 'path': no source file matches {pattern}")
        return files


def _check_zone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise ValueError(f"unknown IANA timezone {name!r}") from error
    return name


def parse_mapping(data: dict, base_dir: Path, origin: str = "<mapping>") -> SourceMapping:
    """A mapping from already-parsed YAML; relative paths resolve against ``base_dir``."""
    try:
        mapping = SourceMapping.model_validate(data)
    except ValidationError as error:
        problems = "; ".join(_describe(issue) for issue in error.errors())
        raise ValueError(f"{origin}: {problems}") from None
    mapping._base_dir = Path(base_dir).resolve()
    mapping._mapping_file = Path(origin) if origin != "<mapping>" else None
    return mapping


def _describe(issue: dict) -> str:
    message = str(issue["msg"]).removeprefix("Value error, ")
    field = ".".join(str(part) for part in issue["loc"])
    # Whole-mapping checks already start their message with the field they are about.
    return f"field '{field}': {message}" if field else f"field {message}"


def load_mapping(path: str | Path) -> SourceMapping:
    """Read and validate a YAML source mapping; every error names the file and the field."""
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise ValueError(f"{path}: cannot read the mapping ({error.strerror})") from None
    except yaml.YAMLError as error:
        raise ValueError(f"{path}: not valid YAML ({error})") from None
    if not isinstance(data, dict):
        raise ValueError(f"{path}: a mapping must be a YAML mapping of fields, got {type(data).__name__}")
    return parse_mapping(data, path.parent, str(path))
