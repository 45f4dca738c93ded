"""Definitions: the bundled lifecycles load, and every kind of mistake is a located DefinitionError."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

import pytest

from workflow import DefinitionError, Registry, load_definition, parse_definition
from workflow.definition import bundled_dir
from workflow.machine import compile_machine

SUGGESTION = (bundled_dir("definitions") / "suggestion.yaml").read_text(encoding="utf-8")
MINIMAL = """\
kind: tiny
initial: open
states:
  open: {label: 开}
  done: {label: 结, final: true}
submit:
  roles: [office]
  fields:
    title: {type: string, required: true}
transitions:
  - trigger: finish
    source: open
    dest: done
    roles: [office]
"""


def error_of(text: str) -> DefinitionError:
    with pytest.raises(DefinitionError) as caught:
        parse_definition(text, "bad.yaml")
    return caught.value


def line_of(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), start=1) if needle in line)


def test_bundled_definitions_load_with_every_trigger_named_in_the_design() -> None:
    """Both bundled lifecycles validate and offer every trigger name the design promises."""
    folder = bundled_dir("definitions")
    suggestion = load_definition(folder / "suggestion.yaml")
    review = load_definition(folder / "review_opinion.yaml")
    triggers = {t.trigger for t in suggestion.transitions}
    assert {
        "register",
        "reject",
        "assign",
        "request_reassignment",
        "reassign",
        "accept",
        "record_contact",
        "submit_co_opinion",
        "request_extension",
        "approve_extension",
        "reply",
        "evaluate",
        "close",
        "verify_commitment",
        "reopen",
        "withdraw",
        "designate_key",
    } <= triggers
    assert {
        "approve",
        "assign",
        "submit_rectification_plan",
        "submit_report",
        "deliberate",
        "vote",
        "order_second_review",
        "refer_accountability",
        "close",
        "reopen",
    } <= {t.trigger for t in review.transitions}
    assert suggestion.parameters["reply_period"].default == "3 months"
    assert suggestion.parameters["long_reply_period"].default == "6 months"
    assert review.parameters["unsatisfactory_share"].default == 0.5


def test_every_state_has_a_chinese_label() -> None:
    """Users see Chinese state labels, with the English name beside them."""
    for name in ("suggestion", "review_opinion"):
        defn = load_definition(bundled_dir("definitions") / f"{name}.yaml")
        for state in defn.states.values():
            assert any("\u4e00" <= ch <= "\u9fff" for ch in state.label), state
            assert f"({state.name.replace('_', ' ')}" in state.label or "(" in state.label


def test_yaml_syntax_error_is_located() -> None:
    """A YAML syntax error reports the file, line and column where the parser stopped."""
    err = error_of(MINIMAL.replace("  open: {label: 开}", "  open: {label: 开"))
    assert err.file == "bad.yaml" and err.line >= 4 and "YAML syntax error" in err.message
    assert str(err).startswith(f"bad.yaml:{err.line}:{err.column}: ")


def test_tab_indentation_is_named() -> None:
    """A tab used for indentation is reported as such, at its line."""
    err = error_of(MINIMAL.replace("  done: {label", "\tdone: {label"))
    assert err.line == 5 and "tab" in err.message


def test_unknown_key_is_located_and_suggests_the_right_one() -> None:
    """An unknown key points at the key itself and suggests the closest allowed key."""
    text = MINIMAL.replace("    dest: done", "    dset: done")
    err = error_of(text)
    assert (err.line, err.column) == (line_of(text, "dset"), 5)
    assert "unknown key 'dset'" in err.message and "did you mean 'dest'" in err.message


def test_misspelled_state_is_located_with_a_suggestion() -> None:
    """A transition to a state that does not exist names it and the likely intended state."""
    text = SUGGESTION.replace("dest: replied", "dest: repleid", 1)
    err = error_of(text)
    assert err.line == line_of(text, "dest: repleid")
    assert "unknown state 'repleid'" in err.message and "'replied'" in err.message


def test_guard_given_as_an_import_path_is_refused() -> None:
    """Guard names resolve only through the registry; a dotted path is never imported."""
    text = SUGGESTION.replace("guards: [units_valid]", "guards: [os.system]", 1)
    err = error_of(text)
    assert err.line == line_of(text, "os.system")
    assert "'os.system' is not in the engine's registry" in err.message and "never imported" in err.message


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (("  - trigger: finish\n", "  - trigger: finish\n    branches: [{if: nope}]\n"), "condition 'nope'"),
        (("    roles: [office]\n", "    roles: [office]\n    actions: [launch]\n"), "action 'launch'"),
        (("    roles: [office]\n", "    roles: [wizard]\n"), "unknown role 'wizard'"),
        (
            ("    title: {type: string, required: true}", "    title: {type: strnig, required: true}"),
            "unknown field type 'strnig'",
        ),
        (
            ("  done: {label: 结, final: true}", "  done: {label: 结, final: true}\n  limbo: {label: 悬}"),
            "'limbo' cannot be reached",
        ),
        (("initial: open", "initial: opne"), "initial state 'opne'"),
        (("kind: tiny", "kind: Tiny Kind"), "kind must be a lower-case name"),
        (
            (
                "    title: {type: string, required: true}",
                "    title: {type: string, required: true}\n    n: {type: integer, min: many}",
            ),
            "min has the wrong type",
        ),
        (
            ("transitions:", "parameters:\n  p: {type: period, default: 3 fortnights}\ntransitions:"),
            "cannot read the period '3 fortnights'",
        ),
        (("transitions:", "parameters:\n  p: {type: fraction, default: 2}\ntransitions:"), "not a valid fraction"),
        (
            (
                "transitions:",
                "parameters: {p: {type: period, default: 1 month}}\n"
                "clocks: {c: {label: 期限, start: [finsh], period: p}}\ntransitions:",
            ),
            "start trigger 'finsh' is not fired by any transition",
        ),
        (("  open: {label: 开}", "  open: {label: 开}\n  open: {label: again}"), "duplicate key 'open'"),
    ],
)
def test_each_mistake_is_one_located_error(change: tuple[str, str], expected: str) -> None:
    """Unknown names, unreachable states, bad types and bad defaults are located errors."""
    text = MINIMAL.replace(*change)
    assert text != MINIMAL
    err = error_of(text)
    assert expected in err.message, err.message
    assert err.line > 0 and err.column > 0


def test_dead_end_non_final_state_is_refused() -> None:
    """A state that is not final but has no way out is an error at the state."""
    text = MINIMAL.replace("  done: {label: 结, final: true}", "  done: {label: 结}")
    err = error_of(text)
    assert "'done' is a dead end" in err.message and err.line == line_of(text, "done: {label")


def test_final_state_with_outgoing_transition_is_refused() -> None:
    """A final state may not be left."""
    text = MINIMAL + "  - trigger: undo\n    source: done\n    dest: open\n    roles: [office]\n"
    assert "final state 'done' has outgoing transitions" in error_of(text).message


def test_duplicate_trigger_from_one_source_is_refused() -> None:
    """The same trigger may not be defined twice from one state (use branches instead)."""
    text = MINIMAL + "  - trigger: finish\n    source: open\n    dest: done\n    roles: [office]\n"
    err = error_of(text)
    assert "trigger 'finish' from state 'open' is already defined by transition 1" in err.message
    assert err.line == len(text.splitlines()) - 2


def test_yaml_boolean_key_is_refused() -> None:
    """YAML 1.1 reads an unquoted `on:` as true; such a key is refused rather than misread."""
    text = MINIMAL.replace(
        "    title: {type: string, required: true}", "    title: {type: string, required: true}\n    on: {type: date}"
    )
    assert "keys must be plain names, not True" in error_of(text).message


def test_all_errors_of_a_file_are_reported_together() -> None:
    """Validation reports every problem in the file, the first one as the raised error."""
    text = MINIMAL.replace("roles: [office]\n", "roles: [wizard]\n").replace("dest: done", "dest: gone")
    err = error_of(text)
    assert err.errors[0] is err
    assert [e.line for e in err.errors] == [
        line_of(text, "roles: [wizard]"),
        len(text.splitlines()) - 1,
        len(text.splitlines()),
    ]


def test_python_tags_are_not_constructed() -> None:
    """YAML tags that would build Python objects are rejected, not executed."""
    err = error_of(MINIMAL.replace("kind: tiny", "kind: !!python/object/apply:os.system ['true']"))
    assert "tag 'tag:yaml.org,2002:python/object/apply:os.system' is not allowed" in err.message
    assert (err.line, err.column) == (1, 7)


def test_empty_and_unreadable_files(tmp_path: Path) -> None:
    """An empty file and a non-UTF-8 file are DefinitionErrors, not crashes."""
    assert "the file is empty" in error_of("").message
    binary = tmp_path / "latin.yaml"
    binary.write_bytes(b"kind: \xff\xfe")
    with pytest.raises(DefinitionError, match="not UTF-8"):
        load_definition(binary)


def test_digest_follows_content_not_comments_or_layout() -> None:
    """The version digest changes when the rules change, not when comments or spacing do."""
    base = parse_definition(MINIMAL)
    assert parse_definition("# a comment\n" + MINIMAL.replace("[office]", "[ office ]")).digest == base.digest
    assert parse_definition(MINIMAL.replace("label: 结", "label: 办结")).digest != base.digest


def test_custom_registry_names_are_accepted() -> None:
    """Integrators add guards to a registry copy; definitions may then name them."""
    registry = Registry.default()
    registry.guard("always_fine")(lambda ctx: None)
    text = MINIMAL.replace("    roles: [office]\n", "    roles: [office]\n    guards: [always_fine]\n")
    assert parse_definition(text, registry=registry).transitions[0].guards == ("always_fine",)
    with pytest.raises(DefinitionError):
        parse_definition(text)  # the default registry is not changed by the copy


def test_compiled_machine_fires_statelessly_on_any_context() -> None:
    """One compiled machine serves every item: firing moves only the context it is given."""
    defn = parse_definition(MINIMAL)
    machine = compile_machine(defn, Registry.default())

    class Ctx:
        state = "open"
        data: ClassVar[dict[str, object]] = {}

    a, b = Ctx(), Ctx()
    machine.events["finish"].trigger(a)
    assert (a.state, b.state) == ("done", "open")
