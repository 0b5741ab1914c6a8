"""Documentation that drifts fails here: the README must document every setting and every
CLI command, and each command must answer --help."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from server.cli import main
from server.settings import documented_settings

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text()


def _commands(group: click.Group, prefix: str = "hearthside"):
    for name, cmd in group.commands.items():
        path = f"{prefix} {name}"
        if isinstance(cmd, click.Group):
            yield from _commands(cmd, path)
        else:
            yield path


@pytest.mark.parametrize("row", documented_settings(), ids=lambda r: r[0])
def test_readme_documents_every_setting_as_the_settings_class_says(row):
    name, default, description = row
    assert f"| `{name}` | {default or '—'} | {description} |" in README, "run: hearthside settings --markdown"


@pytest.mark.parametrize("command", sorted(_commands(main)))
def test_readme_documents_every_command_and_it_has_help(command):
    assert f"`{command}" in README, f"README does not document {command}"
    result = CliRunner().invoke(main, [*command.split()[1:], "--help"])
    assert result.exit_code == 0 and "Usage:" in result.output


def test_readme_gives_the_two_setup_commands_that_ci_runs():
    assert "./scripts/demo" in README and "./scripts/test" in README
    ci = (Path(__file__).resolve().parents[2] / ".ci" / "run").read_text()
    assert "./scripts/test" in ci


def _tracked_texts():
    files = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()
    for name in files:
        path = ROOT / name
        if path.suffix not in {".png", ".ico", ".woff2"} and path.is_file() and not name.endswith("package-lock.json"):
            yield name, path.read_text(errors="replace")


def test_no_file_in_the_repository_holds_a_merge_conflict_marker():
    """A conflict resolved by hand once left both versions in a doc; nothing else would notice."""
    marked = [name for name, text in _tracked_texts()
              if any(line.startswith(("<<<<<<< ", ">>>>>>> ")) for line in text.splitlines())]
    assert marked == []


def test_no_file_names_a_path_of_one_machine():
    """Commands and docs work from any clone: no home directory or build machine's path."""
    machine = re.compile(r"/w[o]rk/|/h[o]me/[a-z]|/r[o]ot/|/U[s]ers/")  # spelt so as not to match itself
    assert [name for name, text in _tracked_texts() if machine.search(text)] == []


def test_every_test_a_doc_names_as_its_proof_exists():
    """The hazard log and the security doc cite tests as controls: a renamed or removed
    test must not leave a control that proves nothing."""
    defined = set()
    for path in (ROOT / "tests").rglob("*.py"):
        if "node_modules" not in path.parts:
            defined |= set(re.findall(r"def (test_[a-z0-9_]+)", path.read_text()))
    cited = {(name, doc.name) for doc in (ROOT / "docs").rglob("*.md")
             for name in re.findall(r"`(test_[a-z0-9_]+)`", doc.read_text())}
    assert sorted(c for c in cited if c[0] not in defined) == []
