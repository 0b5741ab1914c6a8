"""``hearthside model``: the synced data model for the PWA.

The PWA has no build step and must work offline from its first screen, so it cannot ask
the server for the model before it draws a form. Instead the model is written out as an
ES module, ``pwa/js/generated/model.js``, checked in, and a test fails when it is stale
(``tests/pwa/test_model_module.py``). Every option list and length limit in the PWA reads
this module: ``sync/model.py`` stays the one declaration.
"""

from __future__ import annotations

import json
from pathlib import Path

import click

TARGET = Path("js") / "generated" / "model.js"

HEADER = """\
// The synced data model (entities, fields, choices, limits, stores), as the server declares
// it. Generated from the server's model by `hearthside model js --write`: do not edit by
// hand. A test fails when this file is stale.
"""

# The helpers are part of the generated text so that the module is one file with no
# imports: the service worker precaches it like any other, and nothing else holds a copy.
HELPERS = """
function freeze(o) {
  if (o && typeof o === "object" && !Object.isFrozen(o)) {
    Object.freeze(o);
    for (const v of Object.values(o)) freeze(v);
  }
  return o;
}
freeze(MODEL);

export const MAX_JSON_BYTES = MODEL.max_json_bytes;
export const ENTITIES = Object.freeze(Object.keys(MODEL.entities));
/** The IndexedDB store of each entity. */
export const ENTITY_STORE = Object.freeze(Object.fromEntries(
  Object.entries(MODEL.entities).map(([name, e]) => [name, e.store])));

const NONE = Object.freeze([]);

export function entity(name) { return MODEL.entities[name] || null; }
export function field(entityName, name) {
  const e = MODEL.entities[entityName];
  return (e && e.fields[name]) || null;
}
/** The allowed values of a choice field, in the model's order: [{value, label, hint}]. */
export function choices(entityName, name) { const f = field(entityName, name); return (f && f.choices) || NONE; }
export function values(entityName, name) { return choices(entityName, name).map((c) => c.value); }
/** The label the model gives a choice value (the value itself when it is not a choice). */
export function label(entityName, name, value) {
  const c = choices(entityName, name).find((x) => x.value === value);
  return c ? c.label : (value ?? "");
}
/** The position of a value in its choice list (the model's order), or the list's length. */
export function rank(entityName, name, value) {
  const i = values(entityName, name).indexOf(value);
  return i < 0 ? choices(entityName, name).length : i;
}
/** A text field's limit in characters (JSON fields: encoded bytes), or null. */
export function maxLength(entityName, name) {
  const f = field(entityName, name);
  if (!f) return null;
  if (f.type === "json") return MAX_JSON_BYTES;
  return f.max_length ?? null;
}
const encoder = new TextEncoder();
/** How the server measures a value against maxLength: characters (code points) of text,
 * UTF-8 bytes of a JSON value as encoded. */
export function measure(entityName, name, value) {
  const f = field(entityName, name);
  if (value === null || value === undefined) return 0;
  if (f && f.type === "json") return encoder.encode(JSON.stringify(value)).length;
  return typeof value === "string" ? [...value].length : 0;
}

/** Why the server would refuse `value` for this field (null when it is allowed). Mirrors
 * the server's value checks: type, allowed values, length. */
export function problem(entityName, name, value) {
  const f = field(entityName, name);
  if (!f) return `${name} is not a field of ${entityName}`;
  if (value === null || value === undefined) return f.required ? `${name} is required` : null;
  switch (f.type) {
    case "bool": return typeof value === "boolean" ? null : `${name} must be true or false`;
    case "int": return Number.isInteger(value) ? null : `${name} must be a whole number`;
    case "json":
      return measure(entityName, name, value) > MAX_JSON_BYTES ? `${name} is longer than ${MAX_JSON_BYTES} bytes` : null;
    default: break;
  }
  if (typeof value !== "string") return `${name} must be text`;
  if (f.type === "text") {
    if (f.max_length != null && measure(entityName, name, value) > f.max_length) {
      return `${name} is longer than ${f.max_length} characters`;
    }
    if (value.includes("\\u0000")) return `${name} contains a NUL character`;
  }
  if (f.type === "choice" && !values(entityName, name).includes(value)) return `${name} is not one of the allowed values`;
  return null;
}
"""


def render() -> str:
    """The module's text, from ``sync.model.as_data()``."""
    from sync.model import as_data

    data = as_data()
    one = lambda v: json.dumps(v, ensure_ascii=False)  # noqa: E731
    lines = ["export const MODEL = {", f'  "max_json_bytes": {one(data["max_json_bytes"])},', '  "entities": {']
    names = list(data["entities"])
    for n, name in enumerate(names):
        e = data["entities"][name]
        owner = f', "owner": {one(e["owner"])}' if "owner" in e else ""
        lines.append(f'    {one(name)}: {{"store": {one(e["store"])}, "insert_only": {one(e["insert_only"])}{owner}, "fields": {{')
        fields = list(e["fields"].items())
        lines += [f"      {one(f)}: {one(d)}{',' if i < len(fields) - 1 else ''}" for i, (f, d) in enumerate(fields)]
        lines.append("    }}" + ("," if n < len(names) - 1 else ""))
    lines += ["  }", "};"]
    return HEADER + "\n" + "\n".join(lines) + "\n" + HELPERS


def target_path() -> Path:
    from .settings import Settings

    return Path(Settings.from_env().pwa_dir) / TARGET


@click.group("model")
def model() -> None:
    """The synced data model (sync/model.py) as the PWA reads it."""


@model.command("js")
@click.option("--write/--no-write", default=False, help="Write pwa/js/generated/model.js instead of printing it.")
def js(write: bool) -> None:
    """Print (or write) the PWA's generated model module."""
    text = render()
    if not write:
        click.echo(text, nl=False)
        return
    path = target_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    click.echo(f"wrote {path}")
