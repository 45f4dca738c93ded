"""Hostile content: template injection, HTML/script, SQL-looking, formula, control-character and very long
text in every free-text field, carried through notices, the follow-up report in every format and the audit
export; nothing executes, nothing breaks a format, and each value comes out as it went in."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from hostile_corpus import (
    BENIGN,
    CORPUS,
    LONG_UNITS,
    REFERENCES,
    REFUSED,
    limit_of,
    plain_fire,
    spec_of,
    text_fields,
    walk,
)
from jinja2.sandbox import SandboxedEnvironment

from workflow import Actor, Engine, ValidationError
from workflow.audit import chain_hash
from workflow.audit_export import collect, render, visible
from workflow.fields import FieldSpec
from workflow.importer import import_file
from workflow.names import PARTY_FIELDS, hidden, normal_form

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
PARTIES = ("party.unit.lead", "party.unit.co", "party.unit.handler", "party.deputy.lead")
OUTPUTS = (
    "notice.subject",
    "notice.text",
    "notice.html",
    "report.html",
    "report.md",
    "report.csv",
    "report.json",
    "report.docx",
    "report.xlsx",
    "export.text",
    "export.html",
    "export.json",
)


# ---- reading each format back -------------------------------------------------------------------


class Page(HTMLParser):
    """An HTML document as a browser's parser sees it: its tags, attribute names and text."""

    def __init__(self, source: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.attributes: set[str] = set()
        self.chunks: list[str] = []
        self.feed(source)
        self.close()
        self.text = "".join(self.chunks)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.attributes |= {name for name, _ in attrs}

    def handle_data(self, data: str) -> None:
        self.chunks.append(data)


def markdown_page(source: str) -> Page:
    """Markdown as a CommonMark renderer with raw HTML allowed (the permissive case) shows it."""
    from markdown_it import MarkdownIt

    return Page(MarkdownIt("commonmark").enable("table").render(source))


def strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for v in value.values():
            yield from strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from strings(v)


def docx_text(path: Path) -> str:
    from docx import Document

    doc = Document(str(path))
    cells = [c.text for t in doc.tables for row in t.rows for c in row.cells]
    return "\n".join([p.text for p in doc.paragraphs] + cells)


def xlsx_cells(path: Path) -> list[Any]:
    from openpyxl import load_workbook

    return [cell for ws in load_workbook(str(path)).worksheets for row in ws.iter_rows() for cell in row]


def squash(text: str) -> str:
    """Whitespace runs as one space: Markdown table cells and headings hold one line, trimmed."""
    return " ".join(text.split())


def xml_text(text: str) -> str:
    """What an XML-based office format can hold: C0 controls shown as their control pictures (␇, ␛)."""
    return re.sub(r"[\x00-\x08\x0b\x0c\x0e-\x1f]", lambda m: chr(0x2400 + ord(m.group())), text)


def word_text(text: str) -> str:
    """As Word holds it: each carriage return or line feed a line break, read back as a line feed."""
    return xml_text(text.replace("\r", "\n"))


# ---- the run ------------------------------------------------------------------------------------


@dataclass
class Findings:
    checked: int = 0
    literal: int = 0
    executed: list[str] = field(default_factory=list)
    broken: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    seen: dict[tuple[str, str], int] = field(default_factory=dict)


@dataclass
class Input:
    name: str
    raw: str
    values: dict[str, str]  # path -> the value as stored (tagged, cut to the field's limit, stripped if a string)
    items: dict[str, int] = field(default_factory=dict)


def executed_form(raw: str) -> str | None:
    """What the text would become if something rendered it as a template (None if that is itself)."""
    if "{{" not in raw and "{%" not in raw:
        return None
    try:
        out = SandboxedEnvironment().from_string(raw).render()
    except Exception:
        return None
    return out if out.strip() and out != raw else None


def check(found: Findings, inp: Input, output: str, text: str, expect: Callable[[str], str]) -> None:
    """Every field of *inp* that shows in *text* (its tag is there) shows literally, never executed."""
    form = executed_form(inp.raw)
    for path, value in inp.values.items():
        found.checked += 1
        tag = value[value.rindex("⟦") :]
        if form is not None and expect(form + tag) in text:
            found.executed.append(f"{inp.name} {path} in {output}")
        if tag not in text:
            continue
        if expect(value) in text:
            found.literal += 1
            found.seen[(inp.name, output)] = found.seen.get((inp.name, output), 0) + 1
        else:
            at = text.index(tag)
            found.missing.append(f"{inp.name} {path} in {output}: …{text[max(0, at - 80) : at + 5]!r}")


def html_sound(found: Findings, where: str, page: Page, baseline: Page) -> None:
    """No element or event handler the benign document does not have: the text was escaped."""
    extra = set(page.tags) - set(baseline.tags)
    handlers = {a for a in page.attributes if a.startswith("on")}
    if extra or handlers or page.tags.count("script") != baseline.tags.count("script"):
        found.broken.append(f"{where}: new tags {sorted(extra)}, handlers {sorted(handlers)}")


def name_of(text: str) -> str:
    """*text* as a party name can hold it: without the characters that show nothing (refused in a name,
    test_names.py), in its stored form (NFKC)."""
    return normal_form("".join(c for c in text if hidden(c) is None))


def stored(eng: Engine, path: str, value: str) -> str:
    if path.startswith("party."):
        return name_of(value[:LONG_UNITS])
    if path.rsplit(".", 1)[-1] in PARTY_FIELDS:  # a field naming a party holds a name
        return name_of(value)
    return value if spec_of(eng, path).type == "text" else value.strip()


def tagged(eng: Engine, paths: list[str], raw: str, which: str) -> dict[str, str]:
    """Each path's value: *raw* cut to the field's limit, ending with a tag naming the input and the field."""
    values = {}
    for n, path in enumerate(paths):
        tag = f"⟦{which}.{n}⟧"
        limit = LONG_UNITS if path.startswith("party.") else limit_of(eng, path)
        values[path] = stored(eng, path, raw[: limit - len(tag)] + tag)
    return values


def test_hostile_text_in_every_field_is_carried_literally_and_executes_nowhere(
    engine: Engine, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Every corpus text, in every free-text field of both lifecycles and in unit and deputy names, comes out
    of the notices (subject, text, HTML), the follow-up report (HTML, Markdown, CSV, JSON, DOCX, XLSX) and the
    audit export (text, HTML, JSON) as it went in: escaped in HTML, never rendered as a template, never a
    formula in a spreadsheet (CSV and XLSX cells are neutralised), and every document still parses with the
    same structure as one made from plain text."""
    paths = sorted(text_fields(engine) - REFERENCES) + list(PARTIES)
    benign = Input("benign", BENIGN, tagged(engine, paths, BENIGN, "b"))
    benign.items = walk(engine, lambda p: benign.values[p], year=2025).items
    inputs = []
    for n, (name, raw) in enumerate(CORPUS):
        inp = Input(name, raw, tagged(engine, paths, raw, str(n)))
        done = walk(engine, lambda p, inp=inp: inp.values[p])  # type: ignore[misc]
        assert done.used == set(paths), f"the walk fills exactly the text fields: {set(paths) ^ done.used}"
        inp.items = done.items
        inputs.append(inp)
    assert text_fields(engine) - set(paths) == REFERENCES  # those carry the (hostile) party names
    found = Findings()

    # Notices: rendered into the outbox in the fire's transaction.
    benign_html = {
        r["type"]: Page(r["body_html"]) for i in benign.items.values() for r in engine.outbox(item=i) if r["body_html"]
    }
    for inp in inputs:
        for item in inp.items.values():
            for row in engine.outbox(item=item):
                where = f"{inp.name} notice {row['id']} ({row['type']})"
                if "\n" in row["subject"] or "\r" in row["subject"]:
                    found.broken.append(f"{where}: the subject is not one line")
                EmailMessage()["Subject"] = row["subject"]  # a mail header takes it
                check(found, inp, "notice.subject", row["subject"], lambda v: " ".join(v.splitlines()))
                check(found, inp, "notice.text", row["body_text"], lambda v: v)
                if row["body_html"]:
                    page = Page(row["body_html"])
                    html_sound(found, where, page, benign_html[row["type"]])
                    check(found, inp, "notice.html", page.text, lambda v: v)

    # The follow-up report over every item, in every format, against one over the plain items only.
    report = engine.report("followup")
    plain = engine.report("followup", year=2025)
    html_page = Page(str(report.render("html")))
    html_sound(found, "report.html", html_page, Page(str(plain.render("html"))))
    markdown = str(report.render("md"))
    md_page = markdown_page(markdown)
    html_sound(found, "report.md", md_page, markdown_page(str(plain.render("md"))))
    table: list[str] = []
    for line in [*re.split(r"\r\n|\r|\n", markdown), ""]:  # CommonMark's line endings, no others
        if line.startswith("|"):
            table.append(line)
            continue
        widths = {len(re.findall(r"(?<!\\)\|", row)) for row in table}
        if len(widths) > 1:
            found.broken.append(f"report.md: a table's rows have {sorted(widths)} cell separators: {table[:3]}")
        table = []
    rows = list(csv.reader(io.StringIO(str(report.render("csv")), newline="")))
    if {len(r) for r in rows} != {len(rows[0])}:
        found.broken.append("report.csv: rows of different widths")
    formulas = [c for r in rows[1:] for c in r if c.startswith(FORMULA_START)]
    if formulas:
        found.broken.append(f"report.csv: cells a spreadsheet reads as formulas: {formulas[:3]}")
    csv_text = "\n".join(c[1:] if c.startswith("'") and c[1:].startswith(FORMULA_START) else c for r in rows for c in r)
    json_text = "\n".join(strings(json.loads(str(report.render("json")))))
    report.write(tmp_path / "report.docx")
    report.write(tmp_path / "report.xlsx")
    docx = docx_text(tmp_path / "report.docx")
    cells = xlsx_cells(tmp_path / "report.xlsx")
    for cell in cells:
        value = cell.value
        if cell.data_type == "f" or (
            isinstance(value, str) and value.startswith(FORMULA_START) and not cell.quotePrefix
        ):
            found.broken.append(f"report.xlsx: {cell.coordinate} is a formula: {value!r:.60}")
    xlsx_text = "\n".join(c.value for c in cells if isinstance(c.value, str))
    for inp in inputs:
        check(found, inp, "report.html", html_page.text, lambda v: v)
        check(found, inp, "report.md", squash(md_page.text), squash)
        check(found, inp, "report.csv", csv_text, lambda v: v)
        check(found, inp, "report.json", json_text, lambda v: v)
        check(found, inp, "report.docx", docx, word_text)
        check(found, inp, "report.xlsx", xlsx_text, xml_text)

    # The audit export of every item.
    baseline = Page(render(collect(engine, benign.items["suggestion"]), "html"))
    for inp in inputs:
        for item in inp.items.values():
            data = collect(engine, item)
            text, html, raw_json = render(data, "text"), render(data, "html"), render(data, "json")
            lines = text.splitlines()
            heads = [line for line in lines if re.match(r"\[\d+\] ", line)]
            if len(heads) != len(data["rows"]) or sum(line.startswith("审计链校验") for line in lines) != 1:
                found.broken.append(f"{inp.name} export.text of item {item}: a value passes for a row or a verdict")
            if not data["verification"]["intact"]:
                found.broken.append(f"{inp.name} item {item}: {data['verification']['message']}")
            page = Page(html)
            html_sound(found, f"{inp.name} export.html {item}", page, baseline)
            rows_back = json.loads(raw_json)["rows"]
            prev = "0" * 64
            for r in rows_back:  # the JSON alone recomputes the chain
                at = dt.datetime.fromisoformat(r["at"])
                digest = chain_hash(
                    prev, item, r["seq"], at, r["actor"], r["trigger"], r["source"], r["dest"], r["data"], r["effects"]
                )
                if digest != r["hash"]:
                    found.broken.append(f"{inp.name} export.json {item}: row {r['seq']} does not recompute")
                prev = r["hash"]
            check(found, inp, "export.text", text.replace("\n      ┆ ", "\n"), visible)
            check(found, inp, "export.html", page.text, visible)
            check(found, inp, "export.json", "\n".join(strings(rows_back)), lambda v: v)

    for inp in inputs:  # each output shows some of each input's fields (the title at least)
        for output in OUTPUTS:
            if not found.seen.get((inp.name, output)):
                found.missing.append(f"{inp.name}: nothing of it found in {output}")
    with capsys.disabled():
        print(
            f"\nhostile: {len(inputs)} inputs × {len(paths)} fields × {len(OUTPUTS)} outputs checked "
            f"({found.checked} checks, {found.literal} literal), {len(found.executed)} executed, "
            f"{len(found.broken)} broken"
        )
    assert found.executed == [], found.executed[:20]
    assert found.broken == [], "\n".join(b[:300] for b in found.broken[:20])
    assert found.missing == [], found.missing[:20]


# ---- refused input ------------------------------------------------------------------------------


def mutations(
    specs: tuple[FieldSpec, ...], data: dict[str, Any], bad: str, prefix: str = ""
) -> Iterator[tuple[str, dict[str, Any]]]:
    """(field path as a ValidationError names it, *data* with that one free-text value replaced by *bad*)."""
    for spec in specs:
        value = data.get(spec.name)
        if value is None:
            continue
        if spec.type in ("string", "text"):
            yield f"{prefix}{spec.name}", {**data, spec.name: bad}
        elif spec.type == "list":
            yield f"{prefix}{spec.name}[0]", {**data, spec.name: [bad, *value[1:]]}
        elif spec.type == "records":
            for path, first in mutations(spec.fields, value[0], bad, f"{prefix}{spec.name}[0]."):
                yield path, {**data, spec.name: [first, *value[1:]]}


def test_nul_and_over_long_text_are_refused_naming_the_field(engine: Engine) -> None:
    """A NUL character (which PostgreSQL cannot store) or text over a field's limit in any free-text field,
    nested ones included, is a ValidationError naming that field, on every backend, and writes nothing;
    the same fire with plain text then succeeds."""
    refused: list[str] = []

    def probing(eng: Engine, item: int, trigger: str, actor: Actor, data: dict[str, Any]) -> Any:
        detail = eng.get(item)
        spec = eng.definition(detail.kind).transition(detail.state, trigger)
        assert spec is not None
        for name, bad, says in REFUSED:
            for path, mutated in mutations(spec.fields, data, bad):
                with pytest.raises(ValidationError) as caught:
                    eng.fire(item, trigger, actor=actor, **mutated)
                assert (caught.value.field, says in str(caught.value)) == (path, True), (trigger, name, path)
                refused.append(f"{detail.kind}.{trigger}.{path}")
        assert eng.get(item).version == detail.version  # nothing written
        return plain_fire(eng, item, trigger, actor, data)

    submitted = walk(engine, lambda p: f"{BENIGN}·{p}", fire=probing).items
    for kind in ("suggestion", "review_opinion"):
        defn = engine.definition(kind)
        data = engine.get(submitted[kind]).history[0].data
        for name, bad, says in REFUSED:
            for path, mutated in mutations(defn.submit.fields, data, bad):
                with pytest.raises(ValidationError) as caught:
                    engine.submit(kind, **mutated)
                assert caught.value.field == path and says in str(caught.value), (kind, name, path)
                refused.append(f"{kind}.submit.{path}")
    assert {p.replace("[0]", "") for p in refused} == text_fields(engine)  # every text field, each way


def test_an_exported_sheet_of_hostile_items_imports_back_as_text(engine: Engine, tmp_path: Path) -> None:
    """The report's XLSX, whose cells hold formula-like and control-character titles, imports back into
    another database with each title as text (never a formula's result), as the office's round trip does."""
    for name, raw in CORPUS[:-1]:
        title = f"{raw}⟦{name}⟧"
        engine.submit("suggestion", title=title, origin="session", proposers=["王芳"])
    sheet = tmp_path / "汇总表.xlsx"
    engine.report("followup").write(sheet)
    with Engine(f"sqlite:///{tmp_path / 'other.db'}") as other:
        result = import_file(other, sheet, errors_to=tmp_path / "errors.csv")
        titles = sorted(i.title for i in other.items())
    expected = sorted(xml_text(f"{raw}⟦{name}⟧").strip() for name, raw in CORPUS[:-1])
    assert (len(result.imported), titles) == (len(expected), expected)


def test_the_bad_rows_file_of_a_hostile_import_holds_no_formula_and_imports_back(
    engine: Engine, tmp_path: Path
) -> None:
    """Bad rows of an import are written to a CSV a clerk opens in Excel: a cell that starts like a formula
    (= + - @) carries the quote prefix, so nothing is evaluated, and once the rows are fixed the file imports
    back with each title and text exactly as the original sheet had them."""
    texts = {name: f"{raw}⟦{name}⟧".strip() for name, raw in CORPUS[:-1]}
    source = tmp_path / "建议汇总表.csv"
    with source.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["标题", "提出代表", "内容"])
        writer.writerows([text, "", text] for text in texts.values())  # no proposer: every row is bad
    result = import_file(engine, source, skip_bad=True, errors_to=tmp_path / "errors.csv")
    assert (result.imported, len(result.bad_rows)) == ([], len(texts))
    with (tmp_path / "errors.csv").open(encoding="utf-8-sig", newline="") as back:
        rows = list(csv.reader(back))
    assert [c for row in rows for c in row if c.startswith(FORMULA_START)] == []
    for row in rows[1:]:
        row[1] = "王芳"  # the clerk fixes the rows
    with (tmp_path / "errors.csv").open("w", encoding="utf-8-sig", newline="") as out:
        csv.writer(out).writerows(rows)
    again = import_file(engine, tmp_path / "errors.csv")
    imported = [engine.get(i) for i in again.imported]
    assert sorted(i.title for i in imported) == sorted(texts.values())
    assert sorted(i.data["body"] for i in imported) == sorted(texts.values())


def test_party_names_are_checked_like_text_fields(engine: Engine) -> None:
    """A unit or deputy name with a NUL character, or too long for the columns it is written to, is refused
    with a ValidationError naming it when the party is added, instead of failing later on PostgreSQL; so is
    every hostile text holding a character that shows nothing (controls, bidi, zero-width, line breaks)."""
    shows_nothing = [raw for _, raw in CORPUS if hidden(raw.strip()) is not None]
    assert len(shows_nothing) >= 6
    for bad in ("前\x00后", "长" * 60, *(raw[:LONG_UNITS] for raw in shows_nothing)):
        for role in ("unit", "deputy"):
            with pytest.raises(ValidationError) as caught:
                engine.add_party(role, bad)
            assert caught.value.field == "name"
