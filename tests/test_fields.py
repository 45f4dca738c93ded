"""Field checking: typed values from Python and strings from the CLI both become canonical values."""

from __future__ import annotations

import datetime as dt

import pytest

from workflow import ValidationError
from workflow.fields import FieldSpec, MissingFields, check_data

PROMISE = (FieldSpec("what", "string", required=True), FieldSpec("by", "date", required=True))
SPECS = (
    FieldSpec("n", "integer", min=0),
    FieldSpec("share", "number", max=1),
    FieldSpec("flag", "boolean"),
    FieldSpec("on", "date"),
    FieldSpec("units", "list"),
    FieldSpec("promises", "records", fields=PROMISE),
    FieldSpec("title", "string", max_length=5),
    FieldSpec("period", "period"),
)


def test_cli_strings_are_read_by_type() -> None:
    """'3', 'yes', '2026-03-20', 'a,b' and JSON records are read as the field's type."""
    got = check_data(
        SPECS,
        {
            "n": "3",
            "share": "0.5",
            "flag": "是",
            "on": "2026-03-20",
            "units": "甲, 乙",
            "promises": '[{"what": "x", "by": "2026-12-31"}]',
            "period": "3个月",
        },
    )
    assert got == {
        "n": 3,
        "share": 0.5,
        "flag": True,
        "on": dt.date(2026, 3, 20),
        "units": ["甲", "乙"],
        "promises": [{"what": "x", "by": dt.date(2026, 12, 31)}],
        "period": "3 months",
    }
    assert check_data(SPECS, {"units": '["甲,乙", "丙"]'}) == {"units": ["甲,乙", "丙"]}


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"n": -1}, "n", "at least 0"),
        ({"n": True}, "n", "whole number"),
        ({"n": 1.5}, "n", "whole number"),
        ({"share": "nan"}, "share", "finite number"),
        ({"flag": "perhaps"}, "flag", "true or false"),
        ({"on": dt.datetime(2026, 1, 1)}, "on", "not a date and time"),
        ({"units": "甲,甲"}, "units[1]", "listed twice"),
        ({"units": "甲,,乙"}, "units[1]", "must not be empty"),
        ({"promises": "[{"}, "promises", "not valid JSON"),
        ({"promises": [{"what": "x", "by": "2026-12-31", "extra": 1}]}, "promises[0].extra", "not a field here"),
        ({"title": "太长的一个标题"}, "title", "at most 5"),
        ({"period": "forever"}, "period", "cannot read the period"),
        ({"nope": 1}, "nope", "the fields are: n, share"),
    ],
)
def test_bad_values_name_their_field(data: dict[str, object], field: str, message: str) -> None:
    """Every rejected value raises ValidationError with the (nested) field name and the reason."""
    with pytest.raises(ValidationError) as caught:
        check_data(SPECS, data)
    assert caught.value.field == field and message in caught.value.message


def test_required_fields_and_default_length_limits() -> None:
    """Required fields must be present and non-blank; text has a default bound against flooding."""
    with pytest.raises(ValidationError, match="is required"):
        check_data((FieldSpec("title", "string", required=True),), {"title": "   "})
    with pytest.raises(ValidationError, match="at most 50000"):
        check_data((FieldSpec("body", "text"),), {"body": "字" * 50_001})


CHOICES = (
    FieldSpec("origin", "choice", choices=("session", "between_sessions"), choice_labels=("大会期间", "闭会期间")),
    FieldSpec("category", "choice", choices=("A", "B"), choice_labels=("已解决或基本解决", "正在解决或列入规划")),
    FieldSpec("code_only", "choice", choices=("x", "y")),
)


def test_a_choice_is_its_code_or_its_chinese_label() -> None:
    """A choice accepts its code, its Chinese label (spaces around it ignored), the label written after the
    code ("A 已解决或基本解决") and the code in another case; the code is what is stored."""
    assert check_data(CHOICES, {"origin": " 大会期间 ", "category": "A 已解决或基本解决"}) == {
        "origin": "session",
        "category": "A",
    }
    assert check_data(CHOICES, {"origin": "between_sessions", "category": "b"}) == {
        "origin": "between_sessions",
        "category": "B",
    }
    assert check_data(CHOICES, {"category": "正在解决或列入规划"}) == {"category": "B"}


def test_an_unknown_choice_lists_each_label_with_its_code() -> None:
    """An unknown value is refused naming the field and listing every choice as label (code), or the bare
    code where the definition gives no label."""
    with pytest.raises(ValidationError) as caught:
        check_data(CHOICES, {"origin": "会期"})
    assert caught.value.field == "origin"
    assert caught.value.message == "must be one of 大会期间 (session), 闭会期间 (between_sessions); got '会期'"
    with pytest.raises(ValidationError, match=r"must be one of x, y; got 'z'"):
        check_data(CHOICES, {"code_only": "z"})


@pytest.mark.parametrize(
    "text", ["王芳、李强", "王芳，李强", "王芳,李强", "王芳;李强", "王芳；李强", "王芳\n李强", "王芳 、 李强"]
)
def test_a_list_accepts_the_separators_an_import_does(text: str) -> None:
    """A list written as text splits on 、 ， , ; ； and line breaks, as an import's 提出代表 column does."""
    assert check_data(SPECS, {"units": text}) == {"units": ["王芳", "李强"]}


def test_missing_required_fields_are_named_together() -> None:
    """Every required field left out is named in one MissingFields (a ValidationError) with its type and
    label, nested ones by their path; one left out reads as before."""
    specs = (
        FieldSpec("title", "string", required=True, label="标题"),
        FieldSpec("origin", "choice", required=True, choices=("session",), label="大会期间"),
        FieldSpec("promises", "records", fields=PROMISE),
    )
    with pytest.raises(MissingFields) as caught:
        check_data(specs, {"title": " "})
    assert caught.value.fields == ["title", "origin"] and caught.value.field == "title"
    assert str(caught.value) == "2 required fields are missing: title (string, 标题); origin (choice, 大会期间)"
    with pytest.raises(MissingFields) as nested:
        check_data(specs, {"title": "t", "origin": "session", "promises": [{}]})
    assert nested.value.fields == ["promises[0].what", "promises[0].by"]
    with pytest.raises(ValidationError) as one:
        check_data(specs, {"title": "t"})
    assert str(one.value) == "origin: is required (choice, 大会期间)"
