"""`duban audit verify` reports SQL triggers and rules on duban's tables (duban creates none, and one
carried in by a restored backup could rewrite later writes unseen by the audit); a host application's
own tables in the same database are left alone."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from workflow import Engine
from workflow.cli import main


def _trigger(eng: Engine, table: str, name: str) -> None:
    with eng.db.begin() as conn:
        if conn.dialect.name == "sqlite":
            conn.exec_driver_sql(f"CREATE TRIGGER {name} AFTER UPDATE ON {table} BEGIN SELECT 1; END")
        else:
            conn.exec_driver_sql(
                f"CREATE FUNCTION {name}_fn() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$"
            )
            conn.exec_driver_sql(
                f"CREATE TRIGGER {name} BEFORE UPDATE ON {table} FOR EACH ROW EXECUTE FUNCTION {name}_fn()"
            )


def test_a_fresh_database_has_no_foreign_triggers(engine: Engine) -> None:
    """duban itself creates no trigger or rule, so a database it made verifies clean of them."""
    assert engine.foreign_triggers() == []


def test_a_trigger_on_a_duban_table_is_reported_and_fails_verify(
    engine: Engine, capsys: pytest.CaptureFixture[str]
) -> None:
    """A trigger on duban_promise is named with its table, and `duban audit verify` exits 1 naming it."""
    _trigger(engine, "duban_promise", "keep_it_kept")
    assert engine.foreign_triggers() == ["trigger 'keep_it_kept' on duban_promise"]
    code = main(["--db", engine.url, "audit", "verify"])
    err = capsys.readouterr().err
    assert code == 1 and "keep_it_kept" in err and "duban_promise" in err and "Traceback" not in err


def test_a_hosts_own_tables_are_its_business(engine: Engine) -> None:
    """A trigger on a host application's table in the same database is not reported."""
    with engine.db.begin() as conn:
        conn.execute(sa.text("CREATE TABLE host_things (id INTEGER PRIMARY KEY, n INTEGER)"))
    _trigger(engine, "host_things", "host_audit")
    assert engine.foreign_triggers() == []


def test_a_postgresql_rule_on_a_duban_table_is_reported(engine: Engine) -> None:
    """On PostgreSQL a rewrite rule on a duban table is reported like a trigger."""
    if engine.db.dialect.name != "postgresql":
        pytest.skip("rules exist on PostgreSQL only")
    with engine.db.begin() as conn:
        conn.exec_driver_sql("CREATE RULE no_votes AS ON INSERT TO duban_vote DO INSTEAD NOTHING")
    assert engine.foreign_triggers() == ["rule 'no_votes' on duban_vote"]
