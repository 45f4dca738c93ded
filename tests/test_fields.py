"""Field checking: typed values from Python and strings from the CLI both become canonical values."""

from __future__ import annotations

import datetime as dt

import pytest

from workflow import ValidationError
from workflow.fields import FieldSpec, check_data

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
