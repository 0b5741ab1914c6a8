"""`hearthside content check`: validate the content folder and run its golden cases."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import click
import msgspec

from .loader import ContentError, all_rules, answer_problems, load_content, load_golden, load_recording_cases
from .recording import check_recording
from .rules import evaluate, project, with_params
from .schema import content_json_schema

DEFAULT_CONTENT_DIR = Path(__file__).resolve().parents[2] / "content"


def default_content_dir() -> Path:
    env = os.environ.get("HEARTHSIDE_CONTENT_DIR")
    return Path(env) if env else DEFAULT_CONTENT_DIR


def check_content_dir(content_dir: Path) -> tuple[list[str], list[str]]:
    """Return (summary lines, problems). No problems means the content is good to serve."""
    summary: list[str] = []
    problems: list[str] = []
    try:
        content = load_content(content_dir)
    except ContentError as exc:
        return summary, [str(p) for p in exc.problems]
    n_items = sum(len(c.items) for c in content.checklists)
    rules = all_rules(content)
    summary.append(f"content version {content.version} ({content.agency})")
    summary.append(f"{len(content.checklists)} checklists, {n_items} items, {len(rules)} rules, {len(content.recording.phrases)} recording phrases")

    try:
        cases = load_golden(content_dir)
        rec_cases = load_recording_cases(content_dir)
    except ContentError as exc:
        return summary, [str(p) for p in exc.problems]
    covered: set[str] = set()
    failed = 0
    for rel, case in cases:
        for p in answer_problems(content, msgspec.structs.replace(case.facts, history=[])):
            problems.append(f"{rel}, case '{case.id}': {p}")
        for name in case.params:
            if name not in content.params:
                problems.append(f"{rel}, case '{case.id}': unknown param '{name}'")
        got = project(evaluate(with_params(content, case.params), case.facts))
        want = msgspec.to_builtins(case.expected)
        want = {"follow_ups": want.get("follow_ups", []), "flags": want.get("flags", [])}
        covered |= {x["rule"] for x in want["follow_ups"]} | {x["rule"] for x in want["flags"]}
        if got != want:
            failed += 1
            problems.append(
                f"{rel}, case '{case.id}': engine gave {json.dumps(got, sort_keys=True)}, expected {json.dumps(want, sort_keys=True)}"
            )
    for c, item, r in rules:
        if r.id not in covered:
            where = f", item '{item.id}'" if item else ""
            problems.append(f"checklist '{c.id}'{where}, rule '{r.id}': no golden case expects this rule to fire")
    rec_failed = 0
    for case in rec_cases:
        got = [msgspec.to_builtins(w) for w in check_recording(case.text, case.context, content.recording)]
        if got != msgspec.to_builtins(case.expected):
            rec_failed += 1
            problems.append(f"golden/recording.yaml, case '{case.id}': check gave {got}")
    summary.append(f"{len(cases)} golden rule cases ({len(cases) - failed} passed), {len(rec_cases)} recording cases ({len(rec_cases) - rec_failed} passed)")
    return summary, problems


@click.group("content")
def content() -> None:
    """Checklists, rules and recording prompts."""


@content.command("check")
@click.option("--content-dir", type=click.Path(path_type=Path, file_okay=False), default=None,
              help="Content folder (default: $HEARTHSIDE_CONTENT_DIR or the repository's content/).")
def check(content_dir: Path | None) -> None:
    """Validate every content file and run the golden cases; exit 1 on any problem."""
    content_dir = content_dir or default_content_dir()
    summary, problems = check_content_dir(content_dir)
    for line in summary:
        click.echo(line)
    if problems:
        click.echo(f"{len(problems)} problem(s) in {content_dir}:", err=True)
        for p in problems:
            click.echo(f"  {p}", err=True)
        sys.exit(1)
    click.echo("content OK")


@content.command("schema")
@click.option("--write/--no-write", default=False, help="Write content/schema.json instead of printing it.")
@click.option("--content-dir", type=click.Path(path_type=Path, file_okay=False), default=None)
def schema(write: bool, content_dir: Path | None) -> None:
    """Print (or write) the JSON Schema generated from the content Structs."""
    text = render_schema()
    if write:
        path = (content_dir or default_content_dir()) / "schema.json"
        path.write_text(text, encoding="utf-8")
        click.echo(f"wrote {path}")
    else:
        click.echo(text, nl=False)


def render_schema() -> str:
    return json.dumps(content_json_schema(), indent=2, sort_keys=False) + "\n"


if __name__ == "__main__":
    content()
