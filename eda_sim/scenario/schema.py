"""The scenario document's schema: what a YAML file may say (layer 2).

These pydantic models describe the file exactly as a user writes it; they check
types, ranges and which fields go together, and give ``eda-sim schema`` its JSON
Schema. Cross-references (station names in routing, stability, matrix shapes)
are checked in :mod:`eda_sim.scenario.build`, which turns a document into the
immutable :class:`~eda_sim.scenario.model.Scenario` the engines run, and which
also checks the well-formed parts of a document that fails this schema
(:func:`part_adapter` validates one part on its own).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, field_validator, model_validator

from eda_sim.metrics import level_suffix
from eda_sim.scenario.budgets import MAX_CAPACITY, MAX_CONFIDENCE, MAX_REPLICATIONS, MAX_SERVERS

__all__ = [
    "ArrivalSpec",
    "ClassSpec",
    "DistributionSpec",
    "PoissonSpec",
    "RenewalSpec",
    "RunSpec",
    "ScenarioDocument",
    "SloSpec",
    "StationSpec",
    "TraceSpec",
    "part_adapter",
]

PositiveFloat = Annotated[float, Field(gt=0)]
NonNegativeFloat = Annotated[float, Field(ge=0)]
Probability = Annotated[float, Field(ge=0, le=1)]


class _Spec(BaseModel):
    """Common configuration: immutable, strict types, no unknown fields, no NaN/inf."""

    model_config = ConfigDict(
        extra="forbid", frozen=True, strict=True, allow_inf_nan=False, populate_by_name=True
    )


#: The strictness of ``_Spec`` for a part validated on its own (see :func:`part_adapter`).
_PART_CONFIG = ConfigDict(strict=True, allow_inf_nan=False)


def _exactly_one(spec: BaseModel, *names: str) -> None:
    given = [name for name in names if getattr(spec, name) is not None]
    if len(given) != 1:
        shown = ", ".join(given) if given else "neither"
        raise ValueError(f"give exactly one of {', '.join(names)} (got {shown})")


class ExponentialSpec(_Spec):
    """Exponential distribution, by ``rate`` or by ``mean``."""

    dist: Literal["exponential"]
    rate: PositiveFloat | None = None
    mean: PositiveFloat | None = None

    @model_validator(mode="after")
    def _one_parameter(self) -> ExponentialSpec:
        _exactly_one(self, "rate", "mean")
        return self


class DeterministicSpec(_Spec):
    """A constant ``value``."""

    dist: Literal["deterministic"]
    value: PositiveFloat


class ErlangSpec(_Spec):
    """Erlang: ``k`` phases with per-phase ``rate``, ``k`` and ``mean``, or ``mean`` and ``cv``."""

    dist: Literal["erlang"]
    k: Annotated[int, Field(ge=1)] | None = None
    rate: PositiveFloat | None = None
    mean: PositiveFloat | None = None
    cv: Annotated[float, Field(gt=0, le=1)] | None = None

    @model_validator(mode="after")
    def _one_form(self) -> ErlangSpec:
        if self.cv is not None:
            if self.mean is None or self.k is not None or self.rate is not None:
                raise ValueError("with cv give mean only (k = 1/cv²)")
        else:
            if self.k is None:
                raise ValueError("give k with rate or mean, or mean with cv")
            _exactly_one(self, "rate", "mean")
        return self


class GammaSpec(_Spec):
    """Gamma by ``shape`` and ``rate``, ``shape`` and ``mean``, or ``mean`` and ``cv``."""

    dist: Literal["gamma"]
    shape: PositiveFloat | None = None
    rate: PositiveFloat | None = None
    mean: PositiveFloat | None = None
    cv: PositiveFloat | None = None

    @model_validator(mode="after")
    def _one_form(self) -> GammaSpec:
        if self.cv is not None:
            if self.mean is None or self.shape is not None or self.rate is not None:
                raise ValueError("with cv give mean only")
        else:
            if self.shape is None:
                raise ValueError("give shape with rate or mean, or mean with cv")
            _exactly_one(self, "rate", "mean")
        return self


class LognormalSpec(_Spec):
    """Lognormal by ``mean`` and ``cv``, or by ``mu`` and ``sigma`` of the underlying normal."""

    dist: Literal["lognormal"]
    mean: PositiveFloat | None = None
    cv: PositiveFloat | None = None
    mu: float | None = None
    sigma: PositiveFloat | None = None

    @model_validator(mode="after")
    def _one_form(self) -> LognormalSpec:
        by_moments = self.mean is not None or self.cv is not None
        by_normal = self.mu is not None or self.sigma is not None
        if (
            by_moments == by_normal
            or (by_moments and (self.mean is None or self.cv is None))
            or (by_normal and (self.mu is None or self.sigma is None))
        ):
            raise ValueError("give mean and cv, or mu and sigma")
        return self


class HyperexponentialSpec(_Spec):
    """Mixture of exponentials: ``probs`` with ``rates``, or ``mean`` and ``cv`` (cv >= 1)."""

    dist: Literal["hyperexponential"]
    probs: list[Probability] | None = None
    rates: list[PositiveFloat] | None = None
    mean: PositiveFloat | None = None
    cv: Annotated[float, Field(ge=1)] | None = None

    @model_validator(mode="after")
    def _one_form(self) -> HyperexponentialSpec:
        by_moments = self.mean is not None and self.cv is not None
        by_phases = self.probs is not None and self.rates is not None
        partial = [self.mean, self.cv, self.probs, self.rates].count(None) != 2
        if by_moments == by_phases or partial:
            raise ValueError("give probs and rates, or mean and cv")
        return self


class UniformSpec(_Spec):
    """Uniform on ``[low, high]``."""

    dist: Literal["uniform"]
    low: NonNegativeFloat
    high: PositiveFloat


class EmpiricalSpec(_Spec):
    """Resampling of observed ``values``, given in the file or in a CSV ``file``."""

    dist: Literal["empirical"]
    values: list[NonNegativeFloat] | None = None
    file: str | None = Field(
        default=None, description="CSV of observed values, relative to the scenario file"
    )

    @model_validator(mode="after")
    def _one_source(self) -> EmpiricalSpec:
        _exactly_one(self, "values", "file")
        return self


DistributionSpec = Annotated[
    ExponentialSpec
    | DeterministicSpec
    | ErlangSpec
    | GammaSpec
    | LognormalSpec
    | HyperexponentialSpec
    | UniformSpec
    | EmpiricalSpec,
    Field(discriminator="dist"),
]

EntrySpec = Annotated[
    str | dict[str, Probability],
    Field(description="the station external events enter, or {station: probability}"),
]


class PoissonSpec(_Spec):
    """A Poisson stream of external events at ``rate`` per time unit."""

    process: Literal["poisson"]
    rate: PositiveFloat
    to: EntrySpec | None = None


class RenewalSpec(_Spec):
    """A renewal stream: independent gaps drawn from ``interarrival``."""

    process: Literal["renewal"]
    interarrival: DistributionSpec
    to: EntrySpec | None = None


class TraceSpec(_Spec):
    """Recorded arrivals replayed from a CSV file (path relative to the scenario file)."""

    process: Literal["trace"]
    file: str = Field(description="CSV with a header; one row per event")
    to: EntrySpec | None = None
    time_column: str | None = Field(
        default=None, description="column of timestamps (numbers or ISO-8601); default: guessed"
    )
    type_column: str | None = Field(default=None, description="column of event types")
    type: str | None = Field(
        default=None,
        description="replay only the rows of this event type (default: the class's name, "
        "when the trace has it, else every row)",
    )


ArrivalSpec = Annotated[PoissonSpec | RenewalSpec | TraceSpec, Field(discriminator="process")]

#: The routing-row key that publishes a completed event to every listed station.
FANOUT_KEY = "fanout"

#: What a routing row gives a station: a probability (or, at ``fanout``, a list of stations).
RoutingTarget = Probability | list[str]

RoutingRow = dict[str, RoutingTarget]

#: A routing matrix in station order.
RoutingMatrix = list[list[Probability]]

RoutingSpec = Annotated[
    dict[str, RoutingRow] | RoutingMatrix,
    Field(
        description="{from: {to: probability, fanout: [subscribers]}} or a matrix in station "
        "order; the rest of each row leaves the system; fanout sends a copy to every listed "
        "station as well"
    ),
]


class StationSpec(_Spec):
    """A handler station: ``servers`` parallel handlers, FIFO, optional ``capacity``."""

    servers: Annotated[int, Field(ge=1, le=MAX_SERVERS)] = 1
    service: DistributionSpec
    capacity: Annotated[int, Field(ge=1, le=MAX_CAPACITY)] | None = Field(
        default=None,
        description="most events present (waiting + in service); arrivals beyond it are lost",
    )
    on_full: Literal["lose", "block"] = Field(
        default="lose",
        description="when full: lose the arriving event, or block the upstream handler "
        "(it keeps its server) until there is room",
    )


class ClassSpec(_Spec):
    """One event type: its arrivals, its routing, and optional per-station service."""

    arrivals: ArrivalSpec
    routing: RoutingSpec | None = None
    service: dict[str, DistributionSpec] | None = None
    priority: float = Field(
        default=0.0,
        description="non-preemptive priority at every station: lower numbers are served first",
    )


#: The most percentile levels a run may ask for (``run.quantiles``).
MAX_QUANTILES = 20
#: The nearest a percentile level may come to 0 or 1.
MIN_QUANTILE = 1e-12
QuantileLevel = Annotated[float, Field(gt=0, lt=1)]


class RunSpec(_Spec):
    """How to run: horizon, warm-up, replications, seed, confidence, precision, percentiles."""

    horizon: PositiveFloat = 10_000.0
    warmup: Literal["auto", "none"] | NonNegativeFloat = "auto"
    replications: Annotated[int, Field(ge=1, le=MAX_REPLICATIONS)] = 10
    seed: Annotated[int, Field(ge=0)] = 1
    confidence: Annotated[float, Field(gt=0, le=MAX_CONFIDENCE)] = 0.95
    precision: PositiveFloat | Literal["slo"] | None = Field(
        default=None,
        description="target relative CI half-width (add replications until met), or slo "
        "(add replications until every SLO is decided)",
    )
    quantiles: list[QuantileLevel] | None = Field(
        default=None,
        description="percentile levels reported for W and Wq (default [0.5, 0.95, 0.99])",
    )

    @field_validator("quantiles")
    @classmethod
    def _distinct_levels(cls, levels: list[float] | None) -> list[float] | None:
        if levels is None:
            return None
        if not levels:
            raise ValueError("must not be empty")
        if len(levels) > MAX_QUANTILES:
            raise ValueError(f"at most {MAX_QUANTILES} levels, got {len(levels)}")
        seen: set[str] = set()
        for level in levels:
            if 0 < level < 1 and not MIN_QUANTILE <= level <= 1 - MIN_QUANTILE:
                raise ValueError(  # else W_p0 or W_p100 would name it falsely
                    f"must be >= 1e-12 and <= 1 - 1e-12 (a percentile is named by its level "
                    f"in percent to 10 decimals), got {level!r}"
                )
            name = level_suffix(level) if 0 < level < 1 else repr(level)
            if name in seen:  # the same metric name (W_p99) twice
                raise ValueError(f"each level once, got {level:g} twice")
            seen.add(name)
        return levels


class SloSpec(_Spec):
    """A service-level objective: a metric (``target``) at most ``max`` or at least ``min``."""

    target: str = Field(
        description="stations.NAME.METRIC, classes.NAME.METRIC or system.METRIC, e.g. "
        "classes.checkout.W_p99"
    )
    max: NonNegativeFloat | None = None
    min: NonNegativeFloat | None = None

    @model_validator(mode="after")
    def _one_limit(self) -> SloSpec:
        _exactly_one(self, "max", "min")
        return self


class ScenarioDocument(_Spec):
    """A whole scenario file."""

    name: str | None = None
    description: str = ""
    time_unit: str = "s"
    stations: Annotated[dict[str, StationSpec], Field(min_length=1)]
    arrivals: ArrivalSpec | None = None
    routing: RoutingSpec | None = None
    classes: Annotated[dict[str, ClassSpec], Field(min_length=1)] | None = None
    run: RunSpec = RunSpec()
    slo: list[SloSpec] = Field(default_factory=list, description="service-level objectives")

    @model_validator(mode="after")
    def _one_style(self) -> ScenarioDocument:
        if self.classes is not None and (self.arrivals is not None or self.routing is not None):
            raise ValueError("give either classes, or arrivals with routing, not both")
        if self.classes is None and self.arrivals is None:
            raise ValueError("give arrivals (one event type) or classes (several)")
        return self


def part_adapter(annotation: Any) -> TypeAdapter[Any]:
    """A validator for one part of a document (a routing row's entry, an arrival stream...).

    It is as strict as the document's own fields (no text for numbers, no NaN), so
    a part passes it exactly when it passes the schema inside a whole document.
    """
    return TypeAdapter(annotation, config=_PART_CONFIG)


def json_schema() -> dict[str, Any]:
    """Return the JSON Schema of scenario files, for editors and ``eda-sim schema``."""
    schema = ScenarioDocument.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "eda-sim scenario"
    return schema
