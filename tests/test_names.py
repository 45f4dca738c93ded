"""Names are what they look like: party names are normalised (NFKC, stripped) wherever they enter, a name
holding a character that shows nothing is refused naming the field and the character, and a new party that
only looks like a registered one is refused naming it."""

from __future__ import annotations

import csv
import unicodedata
from pathlib import Path

import pytest
import sqlalchemy as sa
from conftest import snapshot, suggestion, to_handling, unit

from workflow import Actor, Engine, ValidationError
from workflow.cli import main
from workflow.errors import ImportRejected
from workflow.importer import import_file
from workflow.names import _RADICALS, skeleton
from workflow.store import TABLES

#: (character, how the error names it): each hides in a name as nothing, or steers the text around it.
HIDDEN = [
    ("\u200b", "U+200B ZERO WIDTH SPACE"),
    ("\u200c", "U+200C ZERO WIDTH NON-JOINER"),
    ("\u200d", "U+200D ZERO WIDTH JOINER"),
    ("\u2060", "U+2060 WORD JOINER"),
    ("\ufeff", "U+FEFF ZERO WIDTH NO-BREAK SPACE"),
    ("\ufe0f", "U+FE0F VARIATION SELECTOR-16"),
    ("\U000e0100", "U+E0100 VARIATION SELECTOR-17"),
    ("\u034f", "U+034F COMBINING GRAPHEME JOINER"),
    ("\u115f", "U+115F HANGUL CHOSEONG FILLER"),
    ("\u1160", "U+1160 HANGUL JUNGSEONG FILLER"),
    ("\u3164", "U+3164 HANGUL FILLER"),
    ("\uffa0", "U+FFA0 HALFWIDTH HANGUL FILLER"),
    ("\u202e", "U+202E RIGHT-TO-LEFT OVERRIDE"),
    ("\u2066", "U+2066 LEFT-TO-RIGHT ISOLATE"),
    ("\u00ad", "U+00AD SOFT HYPHEN"),
    ("\u180e", "U+180E MONGOLIAN VOWEL SEPARATOR"),
    ("\U000e0041", "U+E0041 TAG LATIN CAPITAL LETTER A"),
    ("\u2028", "U+2028 LINE SEPARATOR"),
    ("\x07", "U+0007 BELL"),
    ("\t", "U+0009 CHARACTER TABULATION"),
    ("\n", "U+000A LINE FEED"),
    ("\x1b", "U+001B ESCAPE"),
    ("\x00", "U+0000 NULL"),
    ("\x85", "U+0085 NEXT LINE"),
]
LEAD = "市交通运输局"


def planted(char: str) -> str:
    """市民政局 with *char* as its third character."""
    return f"市民{char}政局"


@pytest.mark.parametrize(("char", "named"), HIDDEN, ids=[h[1] for h in HIDDEN])
def test_a_party_name_with_a_hidden_character_is_refused_naming_it(engine: Engine, char: str, named: str) -> None:
    """A unit, deputy or leader whose name holds a zero-width character, a joiner, a variation selector,
    the combining grapheme joiner, a Hangul filler, a bidi control, a soft hyphen, a tag or a control
    character is refused with a ValidationError on ``name`` that names the character and where it is
    (``U+200B ZERO WIDTH SPACE at position 3``), and nothing is written."""
    before = snapshot(engine)
    for role in ("unit", "deputy", "leader"):
        with pytest.raises(ValidationError) as caught:
            engine.add_party(role, planted(char))
        assert caught.value.field == "name"
        assert f"{named} at position 3" in caught.value.message
    assert snapshot(engine) == before


def test_a_hidden_character_is_refused_in_every_name_a_fire_or_a_submission_carries(engine: Engine) -> None:
    """The names a submission or a fire refers to, the units assigned (lead, co, split), the proposers and
    lead deputy, the supervising and case leaders, and the actor's own name, are refused with the field
    (``co_units[1]``, ``actor``) and the character named; nothing is written."""
    zwsp = "U+200B ZERO WIDTH SPACE at position 3"
    item = suggestion(engine)
    engine.fire(item.id, "register")
    before = snapshot(engine)
    fires = [
        ("lead_unit", {"lead_unit": planted("\u200b")}),
        ("co_units[1]", {"lead_unit": LEAD, "co_units": ["市民政局", planted("\u200b")]}),
        ("split_units[0]", {"split_units": [planted("\u200b"), LEAD]}),
    ]
    for field, data in fires:
        with pytest.raises(ValidationError) as caught:
            engine.fire(item.id, "assign", **data)
        assert (caught.value.field, zwsp in caught.value.message) == (field, True), caught.value
    submissions = [
        ("proposers[1]", {"proposers": ["王芳", "王\u200d芳\u200d"]}, "U+200D ZERO WIDTH JOINER at position 2"),
        ("lead_deputy", {"proposers": ["王芳", "李强"], "lead_deputy": "王芳\ufe0f"}, "VARIATION SELECTOR-16"),
    ]
    for field, data, named in submissions:
        with pytest.raises(ValidationError) as caught:
            suggestion(engine, **data)
        assert (caught.value.field, named in caught.value.message) == (field, True), caught.value
    assert snapshot(engine) == before
    handled = to_handling(engine)
    before = snapshot(engine)
    for data in (
        {"supervising_leader": "刘副\u034f主任"},
        {"supervising_leader": "刘副主任", "case_leader": "张\u3164局长"},
    ):
        with pytest.raises(ValidationError) as caught:
            engine.fire(handled.id, "designate_key", actor=Actor("leader"), **data)
        assert caught.value.field == next(k for k, v in data.items() if v != "刘副主任")
    with pytest.raises(ValidationError) as caught:
        engine.fire(handled.id, "record_contact", actor=unit("市交通\u200b运输局"), stage="before", method="visit")
    assert caught.value.field == "actor" and "U+200B ZERO WIDTH SPACE at position 4" in caught.value.message
    with pytest.raises(ValidationError, match=r"U\+0007 BELL at position 2"):
        Actor("deputy", "王\x07芳")
    assert snapshot(engine) == before


def test_the_command_line_refuses_hidden_characters_in_names(
    engine: Engine, db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """``duban party add`` and ``--actor unit:NAME`` refuse a name holding a hidden character: one line
    naming the option or field and the character, exit status 2, nothing written."""
    item = to_handling(engine)
    before = snapshot(engine)
    assert main(["--db", db_url, "party", "add", "unit", planted("\u200b")]) == 2
    assert capsys.readouterr().err == (
        "error: name: holds U+200B ZERO WIDTH SPACE at position 3, a character that shows nothing or steers the "
        "text around it: a name must be what it looks like; type it again without that character\n"
    )
    actor = f"unit:{LEAD[:2]}\u2060{LEAD[2:]}"
    assert main(["--db", db_url, "fire", str(item.id), "record_contact", "--actor", actor]) == 2
    assert capsys.readouterr().err.startswith("error: --actor: holds U+2060 WORD JOINER at position 3")
    assert main(["--db", db_url, "list", "--unit", f"{LEAD}\u200c"]) == 2
    assert "error: unit: holds U+200C ZERO WIDTH NON-JOINER at position 7" in capsys.readouterr().err
    assert snapshot(engine) == before


def test_an_import_refuses_a_proposer_with_a_hidden_character_at_its_cell(engine: Engine, tmp_path: Path) -> None:
    """A 提出代表 or 领衔代表 cell naming a deputy with a hidden character is a bad row reported at that row
    and column, naming the character; nothing is imported."""
    path = tmp_path / "汇总表.csv"
    with path.open("w", encoding="utf-8", newline="") as out:
        csv.writer(out).writerows(
            [["标题", "提出代表", "领衔代表"], ["关于增设公交站的建议", "王芳、李\u200b强", "王芳"]]
        )
    before = snapshot(engine)
    with pytest.raises(ImportRejected) as caught:
        import_file(engine, path)
    [problem] = caught.value.problems
    assert (problem.row, problem.column) == (2, "提出代表")
    assert "U+200B ZERO WIDTH SPACE at position 2" in problem.message
    assert snapshot(engine) == before


def test_names_are_stored_normalised_and_found_by_any_spelling_of_the_same_name(engine: Engine) -> None:
    """A name is stored in NFKC form with surrounding whitespace stripped: full-width letters and brackets
    and Kangxi radicals become the ordinary characters; an ideographic space, a tab or a line end around it
    goes. Adding the party again under any spelling that normalises alike updates the same row, as adding
    it again always did; and every lookup (a fire's units, an actor, the unit filter) normalises its query
    the same way."""
    row = engine.add_party("unit", "\u3000市５Ｇ推进办公室（试点）\u3000", handler="甲")
    assert row["name"] == "市5G推进办公室(试点)"
    again = engine.add_party("unit", "市5G推进办公室(试点)", handler="乙")
    assert (again["id"], again["handler"]) == (row["id"], "乙")
    same = engine.add_party("unit", "市卫⽣健康委员会")  # ⽣ KANGXI RADICAL LIFE for 生: the conftest unit
    assert same["name"] == "市卫生健康委员会"
    assert (same["principal_leader"], same["handler"]) == ("主要领导", "承办人员")  # no details: unchanged
    assert engine.add_party("unit", "\t市民政局\r\n")["name"] == "市民政局"  # a cell's tab and line end
    assert len(engine.parties("unit")) == 8
    item = suggestion(engine, proposers=["王　芳"])  # an ideographic space inside stays a space
    assert item.data["proposers"] == ["王 芳"]
    engine.fire(item.id, "register")
    engine.fire(item.id, "assign", lead_unit="市５Ｇ推进办公室（试点）", co_units=["市卫⽣健康委员会"])
    assert [a["unit"] for a in engine.get(item.id).assignments] == ["市5G推进办公室(试点)", "市卫生健康委员会"]
    assert Actor("unit", " 市卫⽣健康委员会 ").party == "市卫生健康委员会"
    signed = engine.fire(item.id, "accept", actor=unit("市卫⽣健康委员会"))
    assert engine.get(signed.id).history[-1].actor == "unit:市卫生健康委员会"
    assert [i.id for i in engine.items(unit="市５Ｇ推进办公室（试点）")] == [item.id]
    assert [i.id for i in engine.items(actor=unit("市５Ｇ推进办公室（试点）"))] == [item.id]
    assert {d["item_id"] for d in engine.deadlines(unit="市卫⽣健康委员会")} == {item.id}


def test_a_row_stored_before_names_were_normalised_is_updated_not_doubled(engine: Engine) -> None:
    """A party row written before names were normalised keeps its spelling (nothing is rewritten); adding
    the party again, under that spelling or its normal form, updates that row instead of adding a second."""
    table = TABLES["duban_party"]
    with engine.db.begin() as conn:
        conn.execute(sa.insert(table).values(role="unit", name="市公安局（交警支队）", contacts={}))
    row = engine.add_party("unit", "市公安局（交警支队）", handler="王警官")
    assert (row["name"], row["handler"]) == ("市公安局（交警支队）", "王警官")
    assert engine.add_party("unit", "市公安局(交警支队)")["id"] == row["id"]
    assert len(engine.parties("unit")) == 8


#: (registered, new look-alike, the character the error names): different characters, drawn the same.
LOOKALIKES = [
    ("unit", "市民政局", "市⺠政局", "U+2EA0 CJK RADICAL CIVILIAN"),
    ("unit", "市交通运输局", "市交通运输⻏", None),  # ⻏ is drawn as 邑, not 局: no look-alike
    ("unit", "二〇二六年工作专班", "二○二六年工作专班", "U+25CB WHITE CIRCLE"),
    ("unit", "市CBD管委会", "市СВD管委会", "U+0421 CYRILLIC CAPITAL LETTER ES"),  # Cyrillic С and В
    ("unit", "市opera中心", "市ореra中心", "U+043E CYRILLIC SMALL LETTER O"),
    ("unit", "市ABC局", "市abc局", "U+0061 LATIN SMALL LETTER A"),  # the same letters in another case
    ("unit", "市一中", "市ー中", "U+30FC KATAKANA-HIRAGANA PROLONGED SOUND MARK"),
    ("unit", "市口岸办", "市ロ岸办", "U+30ED KATAKANA LETTER RO"),
    ("deputy", "买买提·艾力", "买买提・艾力", "U+30FB KATAKANA MIDDLE DOT"),
    ("leader", "张工", "张エ", "U+30A8 KATAKANA LETTER E"),
]


@pytest.mark.parametrize(("role", "registered", "new", "named"), LOOKALIKES, ids=[c[2] for c in LOOKALIKES])
def test_a_new_party_that_only_looks_like_a_registered_one_is_refused_naming_it(
    engine: Engine, role: str, registered: str, new: str, named: str | None
) -> None:
    """A new unit, deputy or leader whose name is drawn like a registered party's of the same role (a CJK
    radical for its ideograph, 〇 and ○, Cyrillic or Greek letters for Latin ones, another case, kana
    for ideographs, another middle dot) is refused with a ValidationError on ``name`` naming the
    registered party and the character that differs; nothing is written. A name that differs visibly is
    added."""
    engine.add_party(role, registered)
    before = snapshot(engine)
    if named is None:
        assert engine.add_party(role, new)["name"] == new
        return
    with pytest.raises(ValidationError) as caught:
        engine.add_party(role, new)
    assert caught.value.field == "name"
    assert f"looks the same as the registered {role} {registered!r}" in caught.value.message
    assert named in caught.value.message
    assert snapshot(engine) == before


def test_traditional_and_simplified_names_and_other_roles_are_not_look_alikes(engine: Engine) -> None:
    """Traditional and simplified characters are different characters: 市衛生健康委員會 is added beside
    市卫生健康委员会. Look-alikes are refused within a role only: a leader may share a deputy's name."""
    assert engine.add_party("unit", "市衛生健康委員會")["name"] == "市衛生健康委員會"
    engine.add_party("deputy", "王芳")
    assert engine.add_party("leader", "王芳")["role"] == "leader"
    assert skeleton("市衛生") != skeleton("市卫生")


def test_the_command_line_names_the_registered_look_alike(
    engine: Engine, db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """``duban party add unit 市⺠政局`` beside 市民政局 exits 2 with one line naming 市民政局 and the radical."""
    assert main(["--db", db_url, "party", "add", "unit", "市⺠政局"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: name: '市⺠政局' looks the same as the registered unit '市民政局'; at position 2")
    assert "U+2EA0 CJK RADICAL CIVILIAN where '市民政局' has U+6C11 CJK UNIFIED IDEOGRAPH-6C11" in err


def test_a_look_alike_unit_in_a_fire_is_unknown_and_the_error_names_the_registered_one(engine: Engine) -> None:
    """Assigning 市⺠政局 (radical ⺠) is an unknown unit whose error names the registered 市民政局 it only
    looks like, rather than assigning an item to a unit nobody registered."""
    item = suggestion(engine)
    engine.fire(item.id, "register")
    with pytest.raises(ValidationError) as caught:
        engine.fire(item.id, "assign", lead_unit="市⺠政局")
    assert caught.value.field == "lead_unit"
    assert "it only looks like the registered '市民政局'; at position 2 it has U+2EA0" in caught.value.message


#: The CJK Unified Ideographs blocks (by range: this Python's Unicode may not name the newest, ⺕'s 𫜹 U+2B739).
IDEOGRAPHS = ((0x3400, 0x4DBF), (0x4E00, 0x9FFF), (0x20000, 0x2A6DF), (0x2A700, 0x2EBEF), (0x30000, 0x323AF))


def test_every_cjk_radical_and_stroke_maps_to_an_ideograph_of_its_shape() -> None:
    """The radical table covers every assigned character of the CJK Radicals Supplement but ⺀ (which has no
    ideograph of its shape) and maps each to a CJK unified ideograph; Kangxi radicals are left to NFKC."""
    table = {_RADICALS[i]: _RADICALS[i + 1] for i in range(0, len(_RADICALS), 2)}
    supplement = {chr(c) for c in range(0x2E80, 0x2F00) if unicodedata.name(chr(c), "")}
    assert supplement - set(table) == {"⺀"}
    assert all(any(low <= ord(v) <= high for low, high in IDEOGRAPHS) for v in table.values())
    assert (table["⺠"], table["⻈"], table["⻓"], table["㇐"]) == ("民", "讠", "长", "一")
    assert all(unicodedata.normalize("NFKC", chr(c)) != chr(c) for c in range(0x2F00, 0x2FD6))
