"""Party names (units, deputies, leaders): one stored form for each, and when two names look the same.

A name is what it looks like. Wherever one enters duban (:meth:`Engine.add_party`, an actor's party,
``--actor unit:NAME``, the fields of a submission or a fire that name parties, :data:`PARTY_FIELDS`,
an import's 提出代表 and 领衔代表, the ``unit`` filters) it is normalised by :func:`normal`: Unicode
NFKC (full-width letters, digits and brackets, compatibility ideographs and Kangxi radicals become
the ordinary characters), surrounding whitespace stripped. It is refused, naming the field and the
character, when it holds a character that shows nothing or steers the text around it (:func:`hidden`):
control and format characters (Cc, Cf: zero-width spaces and joiners, the BOM, bidi controls, the
soft hyphen, tags), line and paragraph separators, unpaired surrogates, and every other default-ignorable
code point (variation selectors, the combining grapheme joiner, the Hangul fillers). Private-use and
not-yet-assigned characters are kept: rare characters in people's names (生僻字) are written with them.
A lookup normalises its query the same way, so a name typed with a compatibility variant finds the
party stored under the ordinary one.

Two different names *look the same* when their :func:`skeleton` is equal: NFKC, then the
look-alikes below replaced by the character they are drawn as, case folded. A new party whose
skeleton is that of a registered party of the same role is refused, naming that party. Traditional
and simplified characters are different characters, not look-alikes (衛 is not 卫).

Rows written before names were normalised keep their spelling: nothing is rewritten, since the names
are also in the items' data, their assignments and their hash-chained audit rows. A query is
normalised, so a party stored under a name that NFKC changes (full-width brackets （）, say) is no
longer found by that spelling; :meth:`Engine.add_party` with either spelling updates that row.
"""

from __future__ import annotations

import functools
import unicodedata
from collections.abc import Iterable, Mapping
from typing import Any

from workflow.errors import ValidationError

__all__ = [
    "PARTY_FIELDS",
    "describe",
    "differs",
    "hidden",
    "lookalike",
    "normal",
    "normal_fields",
    "normal_form",
    "registered",
    "skeleton",
]

#: Data fields that name parties, in every lifecycle: their values are normalised like party names.
PARTY_FIELDS = {
    "lead_unit": "unit",
    "co_units": "unit",
    "split_units": "unit",
    "proposers": "deputy",
    "lead_deputy": "deputy",
    "supervising_leader": "leader",
    "case_leader": "leader",
}

#: Default_Ignorable_Code_Point (Unicode's DerivedCoreProperties.txt): the characters a renderer shows
#: as nothing. Most are Cf; these are the ones of other categories, or not yet assigned.
_IGNORABLE = (
    (0x034F, 0x034F),  # COMBINING GRAPHEME JOINER
    (0x115F, 0x1160),  # HANGUL CHOSEONG / JUNGSEONG FILLER
    (0x17B4, 0x17B5),  # KHMER VOWEL INHERENT AQ / AA
    (0x180B, 0x180F),  # MONGOLIAN FREE VARIATION SELECTORS, VOWEL SEPARATOR
    (0x2065, 0x2065),
    (0x3164, 0x3164),  # HANGUL FILLER
    (0xFE00, 0xFE0F),  # VARIATION SELECTOR-1..16
    (0xFFA0, 0xFFA0),  # HALFWIDTH HANGUL FILLER
    (0xFFF0, 0xFFF8),
    (0xE0000, 0xE0FFF),  # tags, VARIATION SELECTOR-17..256
)
_HIDDEN = {"Cc", "Cf", "Cs", "Zl", "Zp"}
#: How many names' normal forms and skeletons are kept: Engine.add_party compares a new name with every
#: registered one of its role, so an import of N parties computes N skeletons, not N² (bounded for a daemon).
_CACHED = 16384
#: Control characters have no name in unicodedata: the aliases Unicode gives the common ones.
_CONTROLS = {
    0x00: "NULL",
    0x07: "BELL",
    0x08: "BACKSPACE",
    0x09: "CHARACTER TABULATION",
    0x0A: "LINE FEED",
    0x0B: "LINE TABULATION",
    0x0C: "FORM FEED",
    0x0D: "CARRIAGE RETURN",
    0x1B: "ESCAPE",
    0x7F: "DELETE",
    0x85: "NEXT LINE",
}

# ---- look-alikes ------------------------------------------------------------------------------
# NFKC and case folding leave these apart; each is drawn as the character it maps to.

#: The CJK Radicals Supplement and the CJK Strokes, each with the ideograph of the same shape (NFKC maps
#: only the Kangxi radicals). From Unicode's EquivalentUnifiedIdeograph.txt: tools/make_radicals.py.
_RADICALS = (
    "⺁厂⺂乛⺃乚⺄乙⺅亻⺆冂⺇𠘨⺈刀⺉刂⺊卜⺋㔾⺌小⺍小⺎兀⺏尣⺐尢⺑𡯂⺒巳⺓幺⺔彑"
    "⺕𫜹⺖忄⺗心⺘扌⺙攵⺛旡⺜日⺝月⺞歺⺟母⺠民⺡氵⺢氺⺣灬⺤爫⺥爫⺦丬⺧牛⺨犭⺩王"
    "⺪𤴔⺫目⺬示⺭礻⺮𥫗⺯糹⺰纟⺱罓⺲罒⺳㓁⺴冗⺵𦉫⺶羊⺷𦍌⺸𦍋⺹耂⺺肀⺻聿⺼肉⺽𦥑"
    "⺾艹⺿艹⻀艹⻁虎⻂衤⻃覀⻄西⻅见⻆角⻇𧢲⻈讠⻉贝⻊𧾷⻋车⻌辶⻍辶⻎辶⻏邑⻐钅⻑長"
    "⻒镸⻓长⻔门⻕𨸏⻖阝⻗雨⻘青⻙韦⻚页⻛风⻜飞⻝食⻞𩙿⻟飠⻠饣⻡𩠐⻢马⻣骨⻤鬼⻥鱼"
    "⻦鸟⻧卤⻨麦⻩黄⻪黾⻫斉⻬齐⻭歯⻮齿⻯竜⻰龙⻱龜⻲亀⻳龟㇆𠃌㇏乀㇐一㇑丨㇒丿㇓丿"
    "㇔丶㇕𠃍㇖乛㇗𠃊㇘𠃎㇙𠄌㇚亅㇛𡿨㇜𠃋㇝乀㇞𠃑㇟乚㇠乙㇡𠄎"
)
#: Greek and Cyrillic letters drawn as Latin ones (the letters of UTS #39's confusables for these
#: scripts), to the Latin letter's lower case: case is folded afterwards, and capitals map here
#: because folding would turn Cyrillic Н (drawn as H) into н (which is not drawn as h).
_LETTERS = {
    **dict(zip("АВЕЅІЈКМНОРСТУХҮӀԚԜ", "abesijkmhopctyxyiqw", strict=True)),  # Cyrillic capitals
    **dict(zip("аеѕіјорсухүӏԁһԛԝ", "aesijopcyxyldhqw", strict=True)),  # Cyrillic small letters
    **dict(zip("ΑΒΕΖΗΙΚΜΝΟΡΤΥΧ", "abezhikmnoptyx", strict=True)),  # Greek capitals
    **dict(zip("αιονρυ", "aiovpu", strict=True)),  # Greek small letters
}
#: Marks drawn alike in Chinese text: kana drawn as ideographs; the zero 〇 and the circles (and the
#: letter O and the digit 0 beside them); the middle dots of transcribed names (买买提·艾力); long bars;
#: hyphens and short dashes; the digit 1 and the bar, drawn as l.
_MARKS = {
    **dict(zip("ロニハエカタトヘノメ", "口二八工力夕卜へ丿乂", strict=True)),
    **dict.fromkeys("〇○◯Oo0", "o"),
    **dict.fromkeys("·・•‧∙⋅᛫", "·"),
    **dict.fromkeys("ー—―─", "一"),
    **dict.fromkeys("‐‒–−⁃", "-"),
    **dict.fromkeys("1|ǀ", "l"),
}
_LOOKALIKES = str.maketrans(
    {**{_RADICALS[i]: _RADICALS[i + 1] for i in range(0, len(_RADICALS), 2)}, **_LETTERS, **_MARKS}
)


def hidden(text: str) -> tuple[int, str] | None:
    """The first character of *text* that shows nothing or steers the text around it, with its position
    (from 1), or None."""
    for position, char in enumerate(text, start=1):
        code = ord(char)
        if unicodedata.category(char) in _HIDDEN or any(low <= code <= high for low, high in _IGNORABLE):
            return position, char
    return None


def describe(char: str) -> str:
    """``U+200B ZERO WIDTH SPACE``: a character as a message names it."""
    code = ord(char)
    name = unicodedata.name(char, "") or _CONTROLS.get(code) or f"<{unicodedata.category(char)}>"
    return f"U+{code:04X} {name}"


def normal(name: Any, field: str) -> str:
    """*name* in its stored form (NFKC, stripped), or ValidationError on *field* when it is not text or holds
    a character that shows nothing (:func:`hidden`) between its first and last visible ones (whitespace
    around a name, a cell's trailing line feed say, is stripped as it always was)."""
    if not isinstance(name, str):
        raise ValidationError(field, f"a name is text, not {type(name).__name__}")
    found = hidden(name.strip())
    if found is not None:
        position, char = found
        raise ValidationError(
            field,
            f"holds {describe(char)} at position {position + len(name) - len(name.lstrip())}, a character that "
            "shows nothing or steers the text around it: a name must be what it looks like; type it again without "
            "that character",
        )
    return normal_form(name)


@functools.lru_cache(maxsize=_CACHED)
def normal_form(name: str) -> str:
    """NFKC, stripped, refusing nothing: how a name stored before names were normalised compares."""
    return unicodedata.normalize("NFKC", name).strip()


def normal_fields(values: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """Checked data with the :data:`PARTY_FIELDS` it has normalised: a name, or a list of names (each once)."""
    out = dict(values)
    for key, value in values.items():
        if key not in PARTY_FIELDS:
            continue
        path = f"{prefix}{key}"
        if isinstance(value, str):
            out[key] = normal(value, path)
        elif isinstance(value, list):
            names = [normal(v, f"{path}[{i}]") for i, v in enumerate(value)]
            for i, name in enumerate(names):
                if name in names[:i]:
                    raise ValidationError(f"{path}[{i}]", f"{name!r} is listed twice ({value[i]!r} is the same name)")
            out[key] = names
    return out


@functools.lru_cache(maxsize=_CACHED)
def skeleton(name: str) -> str:
    """What *name* looks like: equal for two names that are drawn alike (see the module's docstring)."""
    text = unicodedata.normalize("NFKC", name).translate(_LOOKALIKES).casefold()
    return unicodedata.normalize("NFKC", text.translate(_LOOKALIKES))


def lookalike(name: str, names: Iterable[str]) -> str | None:
    """The first of *names* that looks like *name* (same skeleton) but is another name after normalising."""
    shape, own = skeleton(name), normal_form(name)
    for other in names:
        if normal_form(other) != own and skeleton(other) == shape:
            return other
    return None


def registered(name: str, role: str, stored: Iterable[str]) -> str | None:
    """The stored spelling of normalised *name* among the *stored* names of *role* (a row written before
    names were normalised keeps its own), or None for a new name; ValidationError on ``name`` naming the
    registered party when *name* is new but looks like one of them (:func:`lookalike`)."""
    stored = list(stored)
    if name in stored:
        return name
    same = next((s for s in stored if normal_form(s) == name), None)
    if same is None and (other := lookalike(name, stored)) is not None:
        raise ValidationError(
            "name",
            f"{name!r} looks the same as the registered {role} {other!r}{differs(name, other)}: to update that "
            f"{role}, give its name as registered; another {role} needs a name that reads differently",
        )
    return same


def differs(name: str, other: str) -> str:
    """Where *name* and its look-alike *other* differ, for a message: ``; at position 2 it has U+2EA0 …``."""
    if len(name) != len(other):
        return ""
    for position, (a, b) in enumerate(zip(name, other, strict=True), start=1):
        if a != b:
            return f"; at position {position} it has {describe(a)} where {other!r} has {describe(b)}"
    return ""
