"""The reference pages of the documentation, generated from their one source (layer 7).

* :func:`scenario_reference` writes the scenario file's reference from the JSON
  Schema that ``eda-sim schema`` prints (:func:`eda_sim.scenario.json_schema`):
  every section, field, type, default, bound and description, as the validator
  knows them.
* :func:`cli_reference` writes the command line's reference from the Typer app
  itself: every command, its help, its arguments and options with their defaults.

The documentation site's build hook (``docs/hooks.py``) puts them into the pages
where ``<!-- eda-sim: scenario-reference -->`` and ``<!-- eda-sim: cli-reference -->``
stand, so the site cannot drift from the code; the tests check both against the
schema and the app.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

__all__ = ["MARKERS", "cli_reference", "expand", "scenario_reference"]

#: The sections of a scenario file, in the order a file usually has them.
SECTION_ORDER = ("name", "description", "time_unit", "stations", "arrivals", "routing", "classes")


def _escape(text: str) -> str:
    """Text safe inside a Markdown table cell (pipes escaped, one line)."""
    return " ".join(text.replace("|", "\\|").split())


def _type_of(spec: Mapping[str, Any]) -> str:
    """A short, readable type: ``number > 0``, ``integer``, ``one of: a, b``, ``StationSpec``."""
    if "$ref" in spec:
        return f"[{spec['$ref'].rsplit('/', 1)[-1]}](#{_anchor(spec['$ref'].rsplit('/', 1)[-1])})"
    if "enum" in spec:
        return "one of: " + ", ".join(f"`{value}`" for value in spec["enum"])
    if "const" in spec:
        return f"`{spec['const']}`"
    for key in ("anyOf", "oneOf"):
        if key in spec:
            members = [_type_of(member) for member in spec[key] if member.get("type") != "null"]
            return " or ".join(dict.fromkeys(members))
    kind = spec.get("type", "any")
    if kind == "array":
        return f"list of {_type_of(spec.get('items', {}))}"
    if kind == "object":
        values = spec.get("additionalProperties")
        if isinstance(values, dict) and values:
            return f"mapping of name → {_type_of(values)}"
        return "mapping"
    return str(kind)


def _rule(spec: Mapping[str, Any]) -> str:
    """The bounds a value must keep (from every member of a union)."""
    signs = {
        "exclusiveMinimum": ">",
        "minimum": "≥",
        "exclusiveMaximum": "<",
        "maximum": "≤",
        "minItems": "items ≥",
        "minLength": "length ≥",
    }
    rules = [
        f"{sign} {member[key]:g}" if isinstance(member[key], float) else f"{sign} {member[key]}"
        for member in [spec, *spec.get("anyOf", []), *spec.get("oneOf", [])]
        for key, sign in signs.items()
        if key in member
    ]
    return ", ".join(dict.fromkeys(rules))


def _default(spec: Mapping[str, Any], required: bool) -> str:
    if required:
        return "required"
    if spec.get("default") is None:
        return ""
    return f"`{json.dumps(spec['default'])}`"


def _anchor(name: str) -> str:
    return name.lower()


def _fields_table(definition: Mapping[str, Any]) -> list[str]:
    properties: Mapping[str, Any] = definition.get("properties", {})
    required = set(definition.get("required", []))
    lines = ["| field | type | default | rule | description |", "|---|---|---|---|---|"]
    order = [name for name in SECTION_ORDER if name in properties]
    order += [name for name in properties if name not in order]
    for name in order:
        spec = properties[name]
        lines.append(
            f"| `{name}` | {_type_of(spec)} | {_default(spec, name in required)} | "
            f"{_escape(_rule(spec))} | {_escape(spec.get('description', ''))} |"
        )
    return lines


def _description(definition: Mapping[str, Any]) -> str:
    text = definition.get("description", "")
    return " ".join(text.replace("``", "`").split())


def scenario_reference(schema: Mapping[str, Any] | None = None) -> str:
    """The scenario file's reference, as Markdown, from its JSON Schema.

    Parameters
    ----------
    schema : mapping, optional
        The schema to describe; default: :func:`eda_sim.scenario.json_schema`.

    Examples
    --------
    >>> text = scenario_reference()
    >>> "### StationSpec" in text and "`servers`" in text
    True
    """
    if schema is None:
        from eda_sim.scenario import json_schema

        schema = json_schema()
    lines = [
        "### The file",
        "",
        _description(schema),
        "",
        *_fields_table(schema),
        "",
    ]
    for name, definition in sorted(schema.get("$defs", {}).items()):
        lines += [f"### {name}", "", _description(definition), "", *_fields_table(definition), ""]
    return "\n".join(lines)


def _option_line(param: Any, context: Any) -> str:
    names = ", ".join(f"`{opt}`" for opt in [*param.opts, *param.secondary_opts])
    if param.param_type_name == "argument":
        names = f"`{(param.metavar or param.name).upper()}`"
    if getattr(param, "is_flag", False):
        shown_type = "flag"
    elif param.metavar and param.param_type_name != "argument":
        shown_type = param.metavar
    else:
        shown_type = str(param.display_type(context)).strip("<>")
    default = param.default
    if param.required:
        shown_default = "required"
    elif default is None or default == () or callable(default):
        shown_default = ""
    else:
        shown_default = f"`{default}`"
    help_text = _escape(getattr(param, "help", None) or "")
    return f"| {names} | {_escape(shown_type)} | {shown_default} | {help_text} |"


def cli_reference() -> str:
    """The command line's reference, as Markdown, from the Typer app.

    Examples
    --------
    >>> text = cli_reference()
    >>> "### eda-sim run" in text and "`--horizon`" in text
    True
    """
    import click
    import typer.main

    from eda_sim.cli.app import app

    group = typer.main.get_command(app)
    lines = [_escape(group.help or ""), ""]
    commands = getattr(group, "commands", {})
    for name in ("run", "sweep", "theory", "validate", "report", "schema"):
        command = commands.get(name)
        if command is None:
            continue
        text = (command.help or "").replace("\b\n", "")
        lines += [f"### eda-sim {name}", "", text.strip(), ""]
        params = [p for p in command.params if p.name != "help"]
        if params:
            lines += ["| argument or option | type | default | meaning |", "|---|---|---|---|"]
            context = click.Context(command, info_name=name)
            lines += [_option_line(param, context) for param in params]
            lines.append("")
    return "\n".join(lines)


#: The placeholders of the documentation pages and what replaces them.
MARKERS = {
    "<!-- eda-sim: scenario-reference -->": scenario_reference,
    "<!-- eda-sim: cli-reference -->": cli_reference,
}


def expand(markdown: str) -> str:
    """Replace every placeholder of :data:`MARKERS` in a page by its generated text."""
    for marker, generate in MARKERS.items():
        if marker in markdown:
            markdown = markdown.replace(marker, generate())
    return markdown
