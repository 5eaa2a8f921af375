"""Reading and writing scenario files (layer 2).

YAML is read with a safe loader only (no tags that build Python objects), and
duplicate keys are refused rather than silently overwritten. Every fault is
collected into one :class:`~eda_sim.errors.ScenarioError`.
"""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from eda_sim.errors import Fault, ScenarioError
from eda_sim.files import SCENARIO_LIMIT, InputFileError, read_input_text, recording_inputs
from eda_sim.scenario.build import build_scenario, check_parts
from eda_sim.scenario.messages import faults_from_validation
from eda_sim.scenario.model import Scenario
from eda_sim.scenario.parts import well_formed_parts
from eda_sim.scenario.schema import ScenarioDocument

__all__ = [
    "MAX_YAML_NODES",
    "expanded_size",
    "load_scenario",
    "scenario_from_dict",
    "scenario_to_yaml",
]


#: Most values (scalars, lists and mappings) a scenario's YAML may expand to, aliases
#: counted each time they are used: an "alias bomb" of a kilobyte that expands to
#: billions of values is refused before it is built.
MAX_YAML_NODES = 2_000_000

# libyaml's parser when PyYAML was built with it (several times faster), else PyYAML's own.
_SafeLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _StrictSafeLoader(_SafeLoader):  # type: ignore[valid-type,misc]
    """PyYAML's safe loader, refusing duplicate keys in a mapping.

    Merge keys (``<<: *defaults``) work as YAML defines them: the merged mapping's
    keys come first and the mapping's own keys override them; only a key written
    twice in the mapping itself is a duplicate.
    """


def _construct_mapping(loader: _StrictSafeLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    own: set[Any] = set()
    for key_node, _ in node.value:
        if key_node.tag == "tag:yaml.org,2002:merge":
            continue
        key = loader.construct_object(key_node, deep=True)
        if not isinstance(key, str | int | float | bool) and key is not None:
            mark = key_node.start_mark
            raise yaml.constructor.ConstructorError(
                None,
                None,
                f"a key must be a name, got {type(key).__name__} (line {mark.line + 1})",
                mark,
            )
        if key in own:
            mark = key_node.start_mark
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r} (line {mark.line + 1})", mark
            )
        own.add(key)
    loader.flatten_mapping(node)  # merged keys first, then the mapping's own
    mapping: dict[Any, Any] = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if not isinstance(key, str | int | float | bool) and key is not None:
            mark = key_node.start_mark
            raise yaml.constructor.ConstructorError(
                None, None, f"a key must be a name (line {mark.line + 1})", mark
            )
        mapping[key] = loader.construct_object(value_node, deep=True)
    return mapping


# YAML 1.1 wants a dot and a signed exponent in a float, so PyYAML reads ``1e4`` and
# ``2.5e4`` as text; a scenario means the numbers (as YAML 1.2 and JSON do).
_StrictSafeLoader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?[0-9][0-9_]*(?:\.[0-9_]*)?[eE][-+]?[0-9]+$"),
    list("-+0123456789"),
)

_StrictSafeLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG,
    _construct_mapping,
)


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    if isinstance(node, yaml.MappingNode):
        return [child for pair in node.value for child in pair]
    return []


def expanded_size(root: yaml.Node, limit: int = MAX_YAML_NODES) -> int:
    """The number of values ``root`` expands to, aliases counted at every use.

    Shared nodes (aliases) are sized once and remembered, so this takes time in
    the number of distinct nodes, not in the expansion.

    Raises
    ------
    ValueError
        When the expansion passes ``limit`` or an alias refers to a node that holds
        it (a recursive structure, which no scenario is).
    """
    sizes: dict[int, int] = {}
    on_path: set[int] = set()
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, children_done = stack.pop()
        key = id(node)
        if children_done:
            on_path.discard(key)
            total = 1 + sum(sizes[id(child)] for child in _children(node))
            if total > limit:
                raise ValueError(
                    f"its aliases expand to more than {limit:,} values (an alias bomb?)"
                )
            sizes[key] = total
            continue
        if key in sizes:
            continue
        if key in on_path:
            raise ValueError("an alias refers to a value that holds it (a recursive alias)")
        on_path.add(key)
        stack.append((node, True))
        stack.extend((child, False) for child in _children(node) if id(child) not in sizes)
    return sizes[id(root)]


def _parse_yaml(text: str, source: str) -> Any:
    loader = _StrictSafeLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        try:
            expanded_size(node)
        except ValueError as error:
            raise _TooLargeError(str(error)) from None
        return loader.construct_document(node)
    except _TooLargeError as error:
        raise ScenarioError(Fault(source, f"YAML refused: {error}")) from None
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        where = f"{source}:{mark.line + 1}:{mark.column + 1}" if mark else source
        problem = error.problem or error.context or "cannot be parsed"
        raise ScenarioError(Fault(where, f"YAML syntax error: {problem}")) from None
    except yaml.YAMLError as error:
        raise ScenarioError(Fault(source, f"YAML error: {error}")) from None
    except RecursionError:
        raise ScenarioError(Fault(source, "YAML nested too deeply to be a scenario")) from None
    except ValueError as error:  # int(): a whole number of more than 4,300 digits
        reason = "a number too long to read" if "digits" in str(error) else str(error)
        raise ScenarioError(Fault(source, f"YAML value cannot be read: {reason}")) from None
    finally:
        loader.dispose()


class _TooLargeError(Exception):
    """A document whose aliases expand too far (not a ValueError: handled apart)."""


def scenario_from_dict(
    raw: Any,
    *,
    name: str = "scenario",
    base_dir: Path | None = None,
    allow_unstable: bool = False,
) -> Scenario:
    """Validate a scenario given as plain Python data (what YAML parses to).

    Parameters
    ----------
    raw : object
        The document; must be a mapping.
    name : str
        The scenario's name when the document has none.
    base_dir : pathlib.Path, optional
        Where relative file references are resolved.
    allow_unstable : bool
        Accept unlimited-capacity stations with ρ >= 1.

    Raises
    ------
    ScenarioError
        One fault per problem, each naming the field, the value and the rule: the
        schema's faults first, then the cross-reference faults of the parts that
        passed it (an unknown station, a row sum, warm-up >= horizon...).

    Examples
    --------
    >>> scenario = scenario_from_dict({
    ...     "stations": {"web": {"servers": 2, "service": {"dist": "exponential", "mean": 1.0}}},
    ...     "arrivals": {"process": "poisson", "rate": 1.5},
    ... })
    >>> [round(float(rho), 3) for rho in scenario.offered_load()]
    [0.75]
    """
    if not isinstance(raw, dict):
        kind = "empty" if raw is None else f"a {type(raw).__name__}"
        raise ScenarioError(
            Fault(
                "",
                "a scenario must be a mapping of sections "
                f"(stations, arrivals, routing, run), got {kind}",
            )
        )
    try:
        document = ScenarioDocument.model_validate(raw)
    except ValidationError as error:
        # The schema's faults, then those its well-formed parts show past it, each once.
        faults = faults_from_validation(error, raw, ScenarioDocument)
        faults += check_parts(well_formed_parts(raw), base_dir=base_dir)
        raise ScenarioError(list(dict.fromkeys(faults))) from None
    with recording_inputs() as inputs:
        scenario = build_scenario(
            document, name=name, base_dir=base_dir, allow_unstable=allow_unstable
        )
    return dataclasses.replace(scenario, inputs=tuple(inputs), rebuild=_rebuild)


def _rebuild(
    raw: dict[str, Any], name: str, base_dir: Path | None, allow_unstable: bool
) -> Scenario:
    """What :meth:`Scenario.replace` validates a variant with: the same as a document."""
    return scenario_from_dict(raw, name=name, base_dir=base_dir, allow_unstable=allow_unstable)


def load_scenario(path: str | Path, *, allow_unstable: bool = False) -> Scenario:
    """Read, validate and build a scenario from a YAML file.

    Relative file references inside it are resolved against the file's folder;
    a scenario without ``name`` is named after the file.

    Raises
    ------
    ScenarioError
        If the file is missing or unreadable, is not valid YAML, or describes an
        invalid scenario (one fault per problem).
    """
    path = Path(path)
    with recording_inputs() as inputs:
        try:
            text = read_input_text(path, what="scenario file", limit=SCENARIO_LIMIT)
        except InputFileError as error:
            raise ScenarioError(Fault(str(path), error.reason)) from None
        raw = _parse_yaml(text, str(path))
        del text
        try:
            scenario = scenario_from_dict(
                raw, name=path.stem, base_dir=path.resolve().parent, allow_unstable=allow_unstable
            )
        except ScenarioError as error:  # a fault about the whole document names the file
            if all(fault.path for fault in error.faults):
                raise
            named = [Fault(fault.path or str(path), fault.message) for fault in error.faults]
            raise type(error)(named) from None
    return dataclasses.replace(scenario, inputs=tuple(inputs))


def scenario_to_yaml(scenario: Scenario) -> str:
    """Write a scenario back as YAML (the validated document, defaults filled in)."""
    data = scenario.document.model_dump(mode="json", exclude_none=True)
    data.setdefault("name", scenario.name)
    if scenario.has_trace and "horizon" not in scenario.document.run.model_fields_set:
        del data["run"]["horizon"]  # it follows the trace, as in the original
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)
