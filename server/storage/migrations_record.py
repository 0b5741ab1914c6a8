"""Migrations for the record a review looks for at each visit: the practitioner's decisions
and their rationale, information shared (what, with whom, why), and the interpreter used
with the language. Columns are added to ``visits`` (which other tables reference, so it is
altered in place, not rebuilt); the allowed values come from ``sync.model``.
"""

from __future__ import annotations

import sqlite_utils

from sync.model import ENTITIES

from .migrations import migrations, run_script
from .migrations_model import choice_check


def _nullable_check(field_name: str) -> str:
    f = ENTITIES["visit"].field(field_name)
    assert f is not None
    return choice_check(f).replace("CHECK (", f"CHECK ({field_name} IS NULL OR ", 1)


@migrations(name="record_0001_visit_decisions_sharing_interpreter")
def visit_decisions_sharing_interpreter(db: sqlite_utils.Database) -> None:
    run_script(db, f"""
ALTER TABLE visits ADD COLUMN decisions TEXT;
ALTER TABLE visits ADD COLUMN rationale TEXT;
ALTER TABLE visits ADD COLUMN information_shared TEXT {_nullable_check("information_shared")};
ALTER TABLE visits ADD COLUMN shared_what TEXT;
ALTER TABLE visits ADD COLUMN shared_with TEXT;
ALTER TABLE visits ADD COLUMN shared_why TEXT;
ALTER TABLE visits ADD COLUMN interpreter TEXT {_nullable_check("interpreter")};
ALTER TABLE visits ADD COLUMN interpreter_language TEXT;
""")
