from pathlib import Path
import shutil

from click.testing import CliRunner

from server.content.cli import content, default_content_dir

HERE = Path(__file__).resolve().parent
CONTENT_DIR = Path(__file__).resolve().parents[2] / "content"


def test_default_content_dir_is_the_repository_content_folder(monkeypatch):
    monkeypatch.delenv("HEARTHSIDE_CONTENT_DIR", raising=False)
    assert default_content_dir() == CONTENT_DIR


def test_check_passes_on_shipped_content_and_prints_counts():
    result = CliRunner().invoke(content, ["check"])
    assert result.exit_code == 0, result.output
    assert "13 checklists" in result.output and "rules" in result.output
    assert "golden rule cases" in result.output and "content OK" in result.output


def test_check_reads_the_environment_variable(monkeypatch):
    monkeypatch.setenv("HEARTHSIDE_CONTENT_DIR", str(HERE / "broken" / "missing-source"))
    result = CliRunner().invoke(content, ["check"])
    assert result.exit_code == 1


def test_check_fails_on_a_broken_dir_with_the_precise_message():
    result = CliRunner().invoke(content, ["check", "--content-dir", str(HERE / "broken" / "rule-value-not-in-choices")])
    assert result.exit_code == 1
    assert "checklist 'tiny', item 'slept-where', rule 'sofa-sleep'" in result.output
    assert "value 'couch' is not a choice" in result.output


def test_check_fails_when_a_golden_case_no_longer_matches(tmp_path):
    shutil.copytree(CONTENT_DIR, tmp_path / "c")
    f = tmp_path / "c" / "checklists" / "20-injury-non-mobile.yaml"
    f.write_text(f.read_text().replace("severity: urgent", "severity: high"))
    result = CliRunner().invoke(content, ["check", "--content-dir", str(tmp_path / "c")])
    assert result.exit_code == 1
    assert "case 'bruise-on-non-mobile-baby-is-urgent'" in result.output


def test_check_fails_when_a_rule_has_no_golden_case(tmp_path):
    shutil.copytree(CONTENT_DIR, tmp_path / "c")
    for f in (tmp_path / "c" / "golden" / "rules").glob("80-*.yaml"):
        f.unlink()
    result = CliRunner().invoke(content, ["check", "--content-dir", str(tmp_path / "c")])
    assert result.exit_code == 1
    assert "rule 'repeated-cancellations': no golden case expects this rule to fire" in result.output


def test_docs_list_every_item_with_its_source(content):
    from server.content.cli import items_table

    docs = (CONTENT_DIR.parent / "docs" / "content.md").read_text(encoding="utf-8")
    assert items_table(content) in docs, "docs/content.md is stale: run `python -m server.content.cli docs --write`"
    for c in content.checklists:
        for item in c.items:
            assert f"| `{item.id}` |" in docs
