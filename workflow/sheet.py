"""Reading the spreadsheets offices keep: ``.xlsx`` workbooks and ``.csv`` text, as numbered rows.

Rows are numbered the way Excel shows them (the first row is 1), so that an error message points
at the row a clerk sees. A file that is not a spreadsheet at all (an image, a Word document, an old
``.xls``) is named as such rather than half-read. CSV files from Excel on Chinese Windows are often
GB18030 (or, saved as "Unicode text", UTF-16 with tabs), so those encodings are tried after UTF-8.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import threading
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from workflow.errors import ImportRejected, RowProblem

__all__ = ["FORMULA_START", "MAX_BYTES", "MAX_ROWS", "Sheet", "cell_text", "inert", "read_sheet"]

#: The most an import reads: a county's sheet is hundreds of rows, a national one tens of thousands; a
#: workbook past these (a ZIP bomb: a small file that expands to millions of rows) is refused, not read.
MAX_BYTES = 50_000_000  # the file, and a workbook's contents once unzipped
MAX_ROWS = 100_000  # rows of the sheet, as Excel numbers them
#: The longest CSV cell read, as the csv module's own limit (which it raises on, mid-file).
CSV_CELL = csv.field_size_limit()
_CSV_LIMIT = threading.Lock()  # the csv module's limit is process-wide: raised for one read at a time

#: Worksheets read in preference to the first one: duban's own export, then the office's usual name.
PREFERRED_SHEETS = ("事项", "建议汇总表")
_MAGIC = (
    (b"\x89PNG", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF8", "a GIF image"),
    (b"%PDF", "a PDF document"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"Rar!", "a RAR archive"),
    (b"7z\xbc\xaf", "a 7-Zip archive"),
)
_OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # Office 97-2003 (.xls, .doc) and encrypted .xlsx
#: How a cell a spreadsheet would read as a formula starts (OWASP's list for CSV injection).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@dataclass(slots=True)
class Sheet:
    """The rows of one worksheet: ``(row number as Excel shows it, cells)``, wholly blank rows left out."""

    file: str
    name: str | None  # the worksheet read, for a workbook
    rows: list[tuple[int, list[Any]]]
    #: cells too long to read from a CSV file: (row number, column index, length); their rows are bad
    too_long: list[tuple[int, int, int]] = field(default_factory=list)

    def cell_problems(self, headers: list[str]) -> list[RowProblem]:
        """The cells too long to read, as problems at their row and column (headed as in *headers*)."""
        return [
            RowProblem(
                self.file,
                row,
                headers[i] if i < len(headers) and headers[i] else f"column {i + 1}",
                f"this cell holds {n:,} characters, more than the {CSV_CELL:,} a CSV cell may hold; shorten it",
            )
            for row, i, n in self.too_long
        ]


def read_sheet(path: str | Path, *, max_bytes: int = MAX_BYTES, max_rows: int = MAX_ROWS) -> Sheet:
    """Read *path* as an ``.xlsx`` workbook (sheet 事项 or 建议汇总表 if present, else the first) or as
    CSV text; raise :class:`ImportRejected` naming the file when it is neither, or when it is larger than
    *max_bytes* (a workbook: once unzipped, by its ZIP's declared sizes, before reading any of it) or runs
    past row *max_rows* (reading stops there)."""
    path = Path(path)
    file = str(path)

    def reject(message: str) -> ImportRejected:
        return ImportRejected(file, [RowProblem(file, None, None, message)])

    def too_big(what: str, size: int) -> ImportRejected:
        return reject(
            f"{what} {_mb(size)}, more than the {_mb(max_bytes)} an import reads; split the sheet into smaller "
            "files, or raise the limit (duban import --max-mb N)"
        )

    def too_long(sheet: str) -> ImportRejected:
        return reject(
            f"{sheet} runs past row {max_rows:,}, the most an import reads; split it into smaller files, delete "
            "blank rows at its end, or raise the limit (duban import --max-rows N)"
        )

    try:
        if (size := path.stat().st_size) > max_bytes:
            raise too_big("the file is", size)
        raw = path.read_bytes()
    except FileNotFoundError:
        raise reject("no such file") from None
    except IsADirectoryError:
        raise reject("is a folder, not a spreadsheet") from None
    except OSError as exc:
        raise reject(f"cannot read the file: {exc.strerror}") from None
    if not raw.strip():
        raise reject("the file is empty")
    if raw.startswith(b"PK\x03\x04"):
        return _read_xlsx(
            file, raw, reject, lambda size: too_big("the workbook expands to", size), max_bytes, too_long, max_rows
        )
    if raw.startswith(_OLE2):
        raise reject(
            "not a supported spreadsheet: an old-format Excel .xls (Office 97-2003) or a password-protected "
            "workbook; open it in Excel and save it as .xlsx (Excel 工作簿) or CSV"
        )
    for magic, what in _MAGIC:
        if raw.startswith(magic):
            raise reject(f"not a spreadsheet: the file is {what}; give an .xlsx workbook or a .csv file")
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        raise reject(f"not an .xlsx workbook (an .xlsx file is a ZIP archive; this one starts {raw[:8]!r})")
    return _read_csv(file, raw, reject, too_long, max_rows)


def cell_text(value: Any) -> str:
    """A cell as the text a clerk sees: numbers without a spurious ``.0``, dates as YYYY-MM-DD."""
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def inert(text: str) -> str:
    """*text* as a CSV cell a spreadsheet shows as typed and never evaluates: one that starts like a
    formula gets Excel's quote prefix (``'=1+1``). Reading CSV takes the prefix off again, so a CSV duban
    wrote imports back unchanged."""
    return f"'{text}" if text.startswith(FORMULA_START) else text


def _read_xlsx(file: str, raw: bytes, reject: Any, too_big: Any, max_bytes: int, too_long: Any, max_rows: int) -> Sheet:
    from openpyxl import load_workbook

    try:
        with zipfile.ZipFile(io.BytesIO(raw)) as archive:
            names = set(archive.namelist())
            # zipfile reads no member past its declared size, so their sum bounds what openpyxl unpacks
            expanded = sum(info.file_size for info in archive.infolist())
    except zipfile.BadZipFile:
        raise reject("not a spreadsheet: a damaged or incomplete ZIP/.xlsx file") from None
    if expanded > max_bytes:
        raise too_big(expanded)
    if "xl/workbook.xml" not in names:
        what = "a Word document" if "word/document.xml" in names else "a ZIP archive"
        raise reject(f"not a spreadsheet: the file is {what}; give an .xlsx workbook or a .csv file")
    try:
        book = load_workbook(io.BytesIO(raw), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds on a corrupt workbook; all mean the same here
        raise reject(f"cannot read the workbook: {type(exc).__name__}: {exc}".splitlines()[0]) from None
    try:
        sheets = {ws.title: ws for ws in book.worksheets}  # worksheets only: a chart sheet has no cells
        if not sheets:
            raise reject("the workbook has no worksheet")
        name = next((n for n in PREFERRED_SHEETS if n in sheets), next(iter(sheets)))
        sheet = sheets[name]
        # A workbook's stored dimensions may be missing or wrong (some tools never write them):
        # read every row actually present instead of trusting them.
        sheet.reset_dimensions()
        rows = []
        try:
            for number, cells in enumerate(sheet.iter_rows(min_row=1, values_only=True), start=1):
                if number > max_rows:
                    raise too_long(f"the sheet {name}")
                if any(cell_text(c) for c in cells):
                    rows.append((number, list(cells)))
        except ImportRejected:
            raise
        except Exception as exc:  # a damaged part found only while reading (a bad CRC, broken XML)
            raise reject(f"cannot read the workbook: {type(exc).__name__}: {exc}".splitlines()[0]) from None
    finally:
        book.close()
    return Sheet(file, name, rows)


def _read_csv(file: str, raw: bytes, reject: Any, too_long: Any, max_rows: int) -> Sheet:
    text = _decode(raw)
    if text is None or "\x00" in text:
        raise reject(
            "not a spreadsheet: the file is neither an .xlsx workbook nor CSV text "
            "(it is not UTF-8, GB18030 or UTF-16 text)"
        )
    first = next((line for line in text.splitlines() if line.strip()), "")
    delimiter = "\t" if first.count("\t") > first.count(",") else ","
    sheet = Sheet(file, None, [])
    # Each CSV record is one row in Excel, even when a quoted cell holds line breaks. The csv module
    # raises on a cell past its limit, mid-file: read past it (the text is bounded by the file's limit)
    # and report the cell at its row and column instead.
    with _CSV_LIMIT:
        before = csv.field_size_limit(len(text) + 1)
        try:
            records = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
            for number, cells in enumerate(records, start=1):
                if number > max_rows:
                    raise too_long("the file")
                if any(c.strip() for c in cells):
                    cells = [c[1:] if c.startswith("'") and c[1:].startswith(FORMULA_START) else c for c in cells]
                    sheet.rows.append((number, cells))
                    sheet.too_long += [(number, i, len(c)) for i, c in enumerate(cells) if len(c) > CSV_CELL]
        finally:
            csv.field_size_limit(before)
    return sheet


def _mb(size: int) -> str:
    return f"{size / 1e6:,.1f} MB" if size >= 100_000 else f"{size / 1e3:,.1f} kB"


def _decode(raw: bytes) -> str | None:
    """UTF-8 (with or without BOM), then UTF-16 with a BOM (Excel's "Unicode text"), then GB18030."""
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return raw.decode("utf-16")
        except UnicodeDecodeError:
            return None
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    return None
