"""The factory's configuration: one pydantic model, loaded from a scenario layered over ``data/factory.yaml``.

A scenario names its base file (``base: ../factory.yaml``, relative to the scenario) and overrides only what
it changes; mappings merge key by key, so route steps, characteristics and sensors are keyed by name in YAML.
Route order is the key order of the base file.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

FULL_SCALE_CELLS_PER_DAY = 300_000  # scale 1.0: a 40 GWh/year plant


class _Strict(BaseModel):
    # A typo in a scenario must fail loudly, not be ignored.
    model_config = ConfigDict(extra="forbid", frozen=True)


class Characteristic(_Strict):
    """A measured quality characteristic: a few samples per batch, normal around the process mean."""

    unit: str
    target: float
    sigma: float = Field(gt=0)  # within-batch spread (cell to cell, sample to sample)
    batch_sigma: float = Field(0.0, ge=0)  # batch-to-batch drift of the process mean
    lsl: float
    usl: float
    samples: int = Field(3, ge=1)
    # scrap: cells outside the limits are scrapped; rework: this check catches the step's faults
    on_out_of_spec: Literal["scrap", "rework"] = "scrap"

    @model_validator(mode="after")
    def _limits_ordered(self) -> Characteristic:
        if not self.lsl < self.usl:
            raise ValueError(f"lsl ({self.lsl}) must be below usl ({self.usl})")
        return self


class Sensor(_Strict):
    """A machine sensor whose level follows the machine state, with first-order lag and noise."""

    measure: str  # temperature | speed | pressure | vibration | ...
    unit: str
    producing: float
    idle: float  # also during setup and micro-stops
    down: float | None = None  # breakdown and planned maintenance; None: the room's ambient temperature
    time_constant_s: float = Field(0.0, ge=0)  # 0: follows the state at once
    noise: float = Field(0.0, ge=0)


class Rework(_Strict):
    probability: float = Field(0.0, ge=0, le=1)  # chance a pass of the step fails its check
    to: str | None = None  # the step the batch goes back to; None: repeat this step
    max_per_batch: int = Field(2, ge=0)  # after this many loops the batch is passed on regardless


class MicroStops(_Strict):
    mean_interval_min: float = Field(30.0, gt=0)  # of producing time
    mean_duration_s: float = Field(60.0, gt=0)


class Slowdown(_Strict):
    """Actual over planned runtime: 1 + gamma-distributed excess, so effectiveness mostly lands at 80-100%."""

    mean_excess: float = Field(0.08, ge=0)
    shape: float = Field(4.0, gt=0)


class MachineBehaviour(_Strict):
    """Reliability and setup of a machine; every field can be set per route step."""

    mtbf_h: float = Field(80.0, gt=0)  # operating hours between breakdowns
    mttr_min: float = Field(40.0, gt=0)  # mean repair time
    # Repair times are lognormal (most repairs quick, a few take hours) with this coefficient of variation.
    mttr_cv: float = Field(0.75, gt=0)
    micro_stops: MicroStops = MicroStops()
    slowdown: Slowdown = Slowdown()
    changeover_min: float = Field(10.0, ge=0)  # setup when the product changes
    shift_start_setup_min: float = Field(5.0, ge=0)  # start-up check of the first batch in a shift


class Step(_Strict):
    """One route step: the activity, the parallel machines that perform it, and what it measures."""

    machine_prefix: str  # machine ids: <prefix>-01, <prefix>-02, ...
    line_id: str
    room_id: str
    machines: int = Field(ge=1)  # at scale 1.0; the plant has max(1, round(machines * scale))
    planned_runtime_per_unit_s: float = Field(gt=0)  # PRU per cell (long steps compressed to hours)
    scrap_rate: float = Field(0.0, ge=0, le=1)  # random cell defects, on top of out-of-spec cells
    rework: Rework = Rework()
    # Machine behaviour of this step; unset fields come from machine_defaults.
    mtbf_h: float | None = Field(None, gt=0)
    mttr_min: float | None = Field(None, gt=0)
    mttr_cv: float | None = Field(None, gt=0)
    micro_stops: MicroStops | None = None
    slowdown: Slowdown | None = None
    changeover_min: float | None = Field(None, ge=0)
    shift_start_setup_min: float | None = Field(None, ge=0)
    characteristics: dict[str, Characteristic] = {}
    sensors: dict[str, Sensor] = {}
    # Economics: share of a cell's material cost added at this step (active materials at Mixing, foils at
    # Coating, electrolyte at Filling; the shares of the route add up to 1), and the cost of a machine-hour
    # (None: economics.conversion_cost_per_machine_hour).
    material_cost_share: float = Field(0.0, ge=0, le=1)
    conversion_cost_per_machine_hour: float | None = Field(None, ge=0)


class Product(_Strict):
    share: float = Field(gt=0)  # of released batches, relative to the other products
    spec_overrides: dict[str, dict[str, float]] = {}  # characteristic -> {target, lsl, usl, sigma}
    nominal_capacity_ah: float = Field(gt=0)
    material_cost_per_cell: float = Field(ge=0)  # in economics.currency
    selling_price_per_cell: float = Field(ge=0)


class Economics(_Strict):
    currency: str = Field("EUR", pattern=r"^[A-Z]{3}$")  # ISO 4217
    conversion_cost_per_machine_hour: float = Field(ge=0)  # default of the route steps


def _hh_mm(value: str) -> str:
    hours, _, minutes = value.partition(":")
    if not (hours.isdigit() and minutes.isdigit() and int(hours) < 24 and int(minutes) < 60):
        raise ValueError(f"expected local time 'HH:MM', got {value!r}")
    return value


LocalTime = Annotated[str, AfterValidator(_hh_mm)]


def minutes_after_midnight(local_time: str) -> int:
    hours, minutes = local_time.split(":")
    return int(hours) * 60 + int(minutes)


class Shift(_Strict):
    start: LocalTime
    hours: float = Field(gt=0)
    staffed_headcount: int = Field(ge=0)


class Shifts(_Strict):
    pattern: dict[str, Shift]  # name -> shift, in order from the start of the factory day
    crews: list[str] = Field(min_length=1)
    rotation_days: int = Field(2, ge=1)  # days a crew stays on the same shift before rotating on


class Room(_Strict):
    ambient_temperature_c: float
    dew_point_c: float
    temperature_swing_c: float = Field(0.5, ge=0)  # daily amplitude
    noise: float = Field(0.05, ge=0)


class PlannedMaintenance(_Strict):
    machines_per_step: int = Field(1, ge=0)  # rotated through the step's machines by date
    duration_min: float = Field(60.0, gt=0)
    first_start: LocalTime = "08:00"  # local time for the first route step
    stagger_min: float = Field(45.0, ge=0)  # later steps start this much later each


class Release(_Strict):
    batches_per_day: int | None = Field(None, ge=0)  # None: from scale and batch size
    jitter: float = Field(0.3, ge=0, le=1)  # share of the release interval a release may move
    # The plant's first factory day: one continuous run starts there and every later day continues it (no day
    # exists before it). The line never starts empty: the last hours of the day before's release plan are
    # simulated before it (warm-up), so the first day opens with work in progress.
    first_day: date = date(2026, 11, 2)
    warm_up_h: float = Field(12.0, ge=0, le=24)


WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


class BadShift(_Strict):
    """A planted effect: one room runs warm during one shift of one weekday, and its process drifts with it.

    The room's ambient temperature reads ``delta_c`` higher during that shift; every characteristic named in
    ``drift_per_c`` measured by a step in that room moves by that much per degree (coating thickness swells),
    so checks fail and batches go back to rework more often.
    """

    room: str
    weekday: Literal[WEEKDAYS]  # type: ignore[valid-type]
    shift: str
    delta_c: float
    drift_per_c: dict[str, float] = {"coating_thickness": 0.6}  # characteristic -> unit per degC


class Degradation(_Strict):
    """A planted effect: one machine wears out over days until it fails, then is repaired and wears again.

    From ``start`` the machine's wear rises linearly from 0 to 1 over ``days_to_failure`` days; with it the
    named sensor reads up to ``sensor_rise`` higher while producing (a bearing's vibration), micro-stops come
    up to ``micro_stop_factor`` times as often, and at wear 1 the machine breaks down for ``repair_h`` hours.
    The cycle then starts again.
    """

    machine: str  # machine id, e.g. CAL-02 (must exist at the scenario's scale)
    start: date  # factory day on which the first wear cycle begins
    days_to_failure: float = Field(gt=0)
    sensor: str  # sensor name on the machine's step, e.g. vibration
    sensor_rise: float
    micro_stop_factor: float = Field(1.0, ge=1)
    repair_h: float = Field(6.0, gt=0)


class SensorAnomalies(_Strict):
    """Planted sensor faults: per day, ``per_day`` machine sensors each get one anomaly of a random kind."""

    per_day: int = Field(0, ge=0)
    kinds: list[Literal["spike", "drift", "level_shift", "stuck"]] = [
        "spike",
        "drift",
        "level_shift",
        "stuck",
    ]
    min_minutes: float = Field(20.0, gt=0)  # duration of drifts, level shifts and stuck values
    max_minutes: float = Field(120.0, gt=0)
    sigmas: float = Field(8.0, gt=0)  # size in units of the sensor's scale: max(noise, 1% of its range)


class SensorGaps(_Strict):
    """Planted data gaps: per day, ``per_day`` machines send no telemetry at all for a while."""

    per_day: int = Field(0, ge=0)
    min_minutes: float = Field(5.0, gt=0)
    max_minutes: float = Field(60.0, gt=0)


class RouteDeviations(_Strict):
    """A planted effect: a share of the released batches leave the designed route once.

    Each chosen batch gets one deviation: it skips a step, repeats a step (without a failed check), or swaps a
    step with the next one. Only ``steps`` deviate (default: every step without a rework loop, neither the
    first nor the last, so a deviation is never mistaken for designed rework and a case still runs from the
    usual start to the usual end). Drawn from the day's own random stream, recorded as ``route_deviation``
    rows of the planted effects.
    """

    share: float = Field(gt=0, le=1)  # of the day's released batches
    kinds: list[Literal["skip", "repeat", "swap"]] = Field(["skip", "repeat", "swap"], min_length=1)
    steps: list[str] | None = None


class Effects(_Strict):
    """Planted effects for the analytics to find, with their ground truth in the `truth` tables."""

    bad_shift: BadShift | None = None
    degradation: Degradation | None = None
    route_deviations: RouteDeviations | None = None
    sensor_anomalies: SensorAnomalies = SensorAnomalies()
    sensor_gaps: SensorGaps = SensorGaps()


class BadSegment(_Strict):
    """A planted genealogy effect: one segment of one electrode coil is coated thinner (or thicker).

    Read by orchestration/genealogy; the coil id names its batch (and so its day), e.g. "B20261110-0003-A1".
    """

    coil: str
    segment: int = Field(ge=0)
    thickness_shift_um: float


class Genealogy(_Strict):
    bad_segment: BadSegment | None = None


class Corruption(_Strict):
    """Damage the day's MES tables on purpose (see simulator/corruption.py): rows per kind, on ``days``."""

    days: list[date] | None = None  # None: every day
    null_keys: int = Field(0, ge=0)  # production events without an event id
    duplicate_events: int = Field(0, ge=0)  # events sent twice
    end_before_start: int = Field(0, ge=0)
    unknown_machines: int = Field(0, ge=0)  # events on a machine the master data does not know
    wrong_day: int = Field(0, ge=0)  # events stamped two days late
    out_of_range_measurements: int = Field(0, ge=0)  # a unit mix-up: the value x1000
    collapse_share: float = Field(0.0, ge=0, lt=1)  # share of the day's production events lost
    missing_column: str | None = None  # a production_events column the feed stops sending


class FactoryConfig(_Strict):
    name: str = "Simulated gigafactory"
    timezone: str
    day_start_hour: int = Field(ge=0, le=23)
    seed: int
    scale: float = Field(gt=0)  # 1.0 = 40 GWh/year, about 300,000 cells a day
    batch_size_cells: int = Field(gt=0)
    product_campaign_batches: int = Field(6, ge=1)  # consecutive batches of one product
    sensor_interval_s: float = Field(60.0, gt=0)
    release: Release = Release()
    products: dict[str, Product] = Field(min_length=1)
    shifts: Shifts
    rooms: dict[str, Room]
    machine_defaults: MachineBehaviour = MachineBehaviour()
    planned_maintenance: PlannedMaintenance = PlannedMaintenance()
    route: dict[str, Step] = Field(min_length=1)  # activity -> step, in route order
    economics: Economics
    effects: Effects = Effects()
    corruption: Corruption = Corruption()  # none by default
    genealogy: Genealogy = Genealogy()  # per-cell traceability (orchestration/genealogy)

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown timezone {value!r}") from exc
        return value

    @model_validator(mode="after")
    def _consistent(self) -> FactoryConfig:
        for activity, step in self.route.items():
            if step.room_id not in self.rooms:
                raise ValueError(
                    f"route.{activity}.room_id {step.room_id!r} is not one of rooms {list(self.rooms)}"
                )
            if step.rework.to is not None:
                order = list(self.route)
                if step.rework.to not in order or order.index(step.rework.to) > order.index(activity):
                    raise ValueError(f"route.{activity}.rework.to must name this or an earlier step")
        bad = self.effects.bad_shift
        if bad is not None:
            if bad.room not in self.rooms:
                raise ValueError(
                    f"effects.bad_shift.room {bad.room!r} is not one of rooms {list(self.rooms)}"
                )
            if bad.shift not in self.shifts.pattern:
                raise ValueError(
                    f"effects.bad_shift.shift {bad.shift!r} is not one of {list(self.shifts.pattern)}"
                )
        wear = self.effects.degradation
        if wear is not None:
            step = self.activity_of(wear.machine)
            if step is None:
                raise ValueError(
                    f"effects.degradation.machine {wear.machine!r} is not a machine of this plant"
                )
            if wear.sensor not in self.route[step].sensors:
                raise ValueError(
                    f"effects.degradation.sensor {wear.sensor!r} is not a sensor of {step}: "
                    f"{list(self.route[step].sensors)}"
                )
        deviations = self.effects.route_deviations
        if deviations is not None:
            order = list(self.route)
            for name in deviations.steps or []:
                if name not in order or name in (order[0], order[-1]):
                    raise ValueError(
                        f"effects.route_deviations.steps: {name!r} is not an inner step of the route {order}"
                    )
        shares = sum(step.material_cost_share for step in self.route.values())
        if abs(shares - 1.0) > 1e-6:
            raise ValueError(f"route.*.material_cost_share must add up to 1, got {shares:g}")
        characteristics = {name for step in self.route.values() for name in step.characteristics}
        for product_id, product in self.products.items():
            for name, fields in product.spec_overrides.items():
                if name not in characteristics:
                    raise ValueError(f"products.{product_id}.spec_overrides: no route step measures {name!r}")
                unknown = set(fields) - {"target", "sigma", "batch_sigma", "lsl", "usl"}
                if unknown:
                    raise ValueError(
                        f"products.{product_id}.spec_overrides.{name}: unknown fields {sorted(unknown)}"
                    )
        expected = self.day_start_hour * 60
        for name, shift in self.shifts.pattern.items():
            if minutes_after_midnight(shift.start) != expected % 1440:
                raise ValueError(
                    f"shifts.pattern.{name} must start at {expected // 60 % 24:02d}:{expected % 60:02d}"
                )
            expected += round(shift.hours * 60)
        if expected - self.day_start_hour * 60 != 1440:
            raise ValueError("shifts.pattern must cover 24 hours from day_start_hour without gaps")
        return self

    def behaviour(self, activity: str) -> MachineBehaviour:
        """The machine behaviour of a route step: machine_defaults with the step's overrides."""
        step = self.route[activity]
        overrides = {name: getattr(step, name) for name in MachineBehaviour.model_fields}
        return self.machine_defaults.model_copy(update={k: v for k, v in overrides.items() if v is not None})

    @property
    def batches_per_day(self) -> int:
        if self.release.batches_per_day is not None:
            return self.release.batches_per_day
        return round(FULL_SCALE_CELLS_PER_DAY * self.scale / self.batch_size_cells)

    def machine_count(self, activity: str) -> int:
        return max(1, int(self.route[activity].machines * self.scale + 0.5))

    def machine_ids(self, activity: str) -> tuple[str, ...]:
        prefix = self.route[activity].machine_prefix
        return tuple(f"{prefix}-{n:02d}" for n in range(1, self.machine_count(activity) + 1))

    def activity_of(self, machine_id: str) -> str | None:
        """The route step a machine id of this plant belongs to; None if the plant has no such machine."""
        return next((a for a in self.route if machine_id in self.machine_ids(a)), None)

    def conversion_cost(self, activity: str) -> float:
        """Cost of one machine-hour of a route step."""
        own = self.route[activity].conversion_cost_per_machine_hour
        return self.economics.conversion_cost_per_machine_hour if own is None else own


def _deep_merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _read_layers(path: Path, seen: tuple[Path, ...] = ()) -> tuple[dict[str, Any], tuple[Path, ...]]:
    """The merged mapping of a scenario and its bases, and the files it came from (the scenario first)."""
    path = path.resolve()
    if path in seen:
        raise ValueError(f"{path}: scenario bases form a cycle")
    try:
        data = yaml.safe_load(path.read_text()) or {}
    except OSError as exc:
        raise ValueError(f"{path}: cannot read scenario file: {exc.strerror}") from exc
    except yaml.YAMLError as exc:
        raise ValueError(f"{path}: not valid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise ValueError(f"{path}: a scenario must be a mapping at the top level")
    base = data.pop("base", None)
    if base is None:
        return data, (path,)
    merged, files = _read_layers(path.parent / base, (*seen, path))
    return _deep_merge(merged, data), (path, *files)


def load_scenario(path: Path) -> FactoryConfig:
    """The factory configuration of a scenario file, merged over its base; ValueError names file and field."""
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"scenario {path} does not exist")
    merged, files = _read_layers(path)
    try:
        return FactoryConfig.model_validate(merged)
    except ValidationError as exc:
        problems = "; ".join(_describe(err) for err in exc.errors())
        layered = f" (layered over {', '.join(str(f) for f in files[1:])})" if len(files) > 1 else ""
        raise ValueError(f"invalid scenario {path}{layered}: {problems}") from exc


def _describe(error: Any) -> str:
    message = error["msg"].removeprefix("Value error, ")
    field = ".".join(str(part) for part in error["loc"])
    return f"{field}: {message}" if field else message
