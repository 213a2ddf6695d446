"""Batch synthesis: a CSV of lines in, a ZIP of WAVs plus a manifest of every row's outcome out.

The CSV's first row names its columns: `text` and `voice` are required; `model`, `language`
(or `language_type`) and `instructions` are optional, and other columns are ignored. Rows are
numbered as a spreadsheet shows them (the header is row 1). A row that fails is reported in the
manifest and the batch goes on. No gradio here: the UI passes a progress callback.
"""

from __future__ import annotations

import csv
import io
import logging
import re
import time
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, fields
from pathlib import Path

import pandas as pd

from .audio import pcm_to_wav
from .config import Settings
from .errors import DemoError, InputError, InvalidKeyError, unexpected_error
from .messages import Message, say
from .quota import Visitor
from .synthesis import SpeechOrder, Synthesizer

log = logging.getLogger(__name__)

MAX_BATCH_ROWS = Settings.batch_max_rows  # lines per batch unless the settings say otherwise
MAX_CSV_BYTES = 2_000_000  # far above a batch of rows of 600 characters plus instructions
CSV_ENCODINGS = ("utf-8-sig", "gb18030")  # Excel in Chinese locales saves CSV as GBK
REQUIRED_COLUMNS = ("text", "voice")
OPTIONAL_COLUMNS = ("model", "language", "instructions")
COLUMN_ALIASES = {"language_type": "language"}
MANIFEST_NAME = "manifest.csv"
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")  # what spreadsheets read as a formula

_UNSAFE_IN_FILE_NAME = re.compile(r"[^A-Za-z0-9_-]+")


@dataclass(frozen=True)
class BatchRow:
    row: int  # as a spreadsheet numbers it: the header is row 1
    text: str
    voice: str
    model: str = ""  # "" means the batch's default model
    language: str = ""  # "" means Auto
    instructions: str = ""
    problem: Message | None = None  # why the CSV line itself is unusable (too many fields)


@dataclass(frozen=True)
class RowOutcome:
    """One line of the manifest."""

    row: int
    status: str  # "ok", "failed", or "skipped" (not tried after the key was refused)
    file: str  # the WAV's name in the ZIP; "" unless ok
    text: str
    voice: str
    model: str
    language: str
    instructions: str
    audio_s: float
    billed: int
    billing_unit: str  # "characters" or "tokens"
    cached: bool  # served from the result cache: no API call, nothing billed
    request_id: str
    error: str  # in English; "" when ok
    error_zh: str


MANIFEST_COLUMNS = tuple(f.name for f in fields(RowOutcome))
ProgressCallback = Callable[[int, int, RowOutcome], None]  # (rows done, rows in all, last one)


@dataclass(frozen=True)
class BatchResult:
    zip_path: Path  # the WAVs of the rows that succeeded, and manifest.csv
    outcomes: tuple[RowOutcome, ...]

    @property
    def manifest(self) -> pd.DataFrame:
        return manifest_frame(self.outcomes)


# --- Reading the CSV ----------------------------------------------------------------------------


def _decode(data: bytes) -> str:
    for encoding in CSV_ENCODINGS:
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise InputError(say("csv_unreadable"))


def _columns(header: list[str]) -> list[str]:
    names = [COLUMN_ALIASES.get(name.strip().lower(), name.strip().lower()) for name in header]
    missing = [name for name in REQUIRED_COLUMNS if name not in names]
    if missing:
        found = ", ".join(name for name in names if name) or say("csv_no_columns")
        raise InputError(say("csv_columns", found=found))
    return names


def _row(number: int, names: list[str], cells: list[str]) -> BatchRow:
    values = dict(zip(names, (cell.strip() for cell in cells), strict=False))
    known = {name: values.get(name, "") for name in REQUIRED_COLUMNS + OPTIONAL_COLUMNS}
    if len(cells) <= len(names):
        return BatchRow(row=number, **known)
    problem = say("csv_row_fields", row=number, fields=len(cells), columns=len(names))
    return BatchRow(row=number, problem=problem, **known)


def _records(text: str) -> list[list[str]]:
    """The CSV's lines as cells, or an InputError naming the line that cannot be read."""
    reader = csv.reader(io.StringIO(text, newline=None))  # \r\n, \n and old Macs' \r alike
    try:
        return list(reader)
    except csv.Error as err:
        if "field limit" in str(err):  # a cell over csv.field_size_limit(), or an open quote
            raise InputError(
                say(
                    "csv_cell_too_long",
                    line=reader.line_num,
                    limit=csv.field_size_limit(),
                    cap=Settings.max_text_chars,
                )
            ) from err
        raise InputError(say("csv_malformed", line=reader.line_num)) from err


def read_batch_csv(data: bytes, max_rows: int = MAX_BATCH_ROWS) -> list[BatchRow]:
    """The rows of an uploaded CSV, or an InputError when the file as a whole cannot be used.

    Blank lines are skipped; a line with too many fields becomes a row with a `problem`.
    """
    if len(data) > MAX_CSV_BYTES:
        raise InputError(say("csv_too_large", mb=MAX_CSV_BYTES // 1_000_000, max_rows=max_rows))
    records = _records(_decode(data))
    numbered = [
        (number, cells)
        for number, cells in enumerate(records, start=1)
        if any(cell.strip() for cell in cells)
    ]
    if not numbered:
        raise InputError(say("csv_empty"))
    (_, header), body = numbered[0], numbered[1:]
    names = _columns(header)
    if not body:
        raise InputError(say("csv_no_rows"))
    if len(body) > max_rows:
        raise InputError(say("csv_too_many_rows", rows=len(body), max_rows=max_rows))
    return [_row(number, names, cells) for number, cells in body]


def read_batch_table(table: pd.DataFrame, max_rows: int = MAX_BATCH_ROWS) -> list[BatchRow]:
    """The rows of a table edited on the page, checked exactly as an uploaded CSV is."""
    return read_batch_csv(table.fillna("").to_csv(index=False).encode("utf-8"), max_rows)


def batch_table(rows: Sequence[BatchRow]) -> pd.DataFrame:
    """Rows as the page's editable table shows them: one column per field a CSV may carry."""
    columns = list(REQUIRED_COLUMNS + OPTIONAL_COLUMNS)
    return pd.DataFrame([[getattr(row, name) for name in columns] for row in rows], columns=columns)


# --- Running it ---------------------------------------------------------------------------------


def _outcome(row: BatchRow, model: str, **details: str | float | bool) -> RowOutcome:
    base = dict(
        file="",
        audio_s=0.0,
        billed=0,
        billing_unit="",
        cached=False,
        request_id="",
        error="",
        error_zh="",
    )
    return RowOutcome(
        row=row.row,
        text=row.text,
        voice=row.voice,
        model=model,
        language=row.language,
        instructions=row.instructions,
        **{**base, **details},
    )


def _failed(row: BatchRow, model: str, err: DemoError) -> RowOutcome:
    return _outcome(
        row,
        model,
        status="failed",
        error=err.en,
        error_zh=err.zh,
        request_id=getattr(err, "request_id", None) or "",
    )


def _skipped(row: BatchRow, model: str, reason: Message) -> RowOutcome:
    return _outcome(row, model, status="skipped", error=reason.en, error_zh=reason.zh)


def _wav_name(row: BatchRow) -> str:
    return f"{row.row:04d}_{_UNSAFE_IN_FILE_NAME.sub('-', row.voice)}.wav"


@dataclass(frozen=True)
class _BatchRun:
    """What every row of one batch is spoken with."""

    synthesizer: Synthesizer
    region: str
    api_key: str
    visitor: Visitor  # who the rows are charged to (the batch was admitted as one request)
    viewer: Visitor  # who runs it: a row served from the cache counts against their answers
    owner: str = ""  # the browser's owner token: its own voices may be named

    def own_voice(self, voice: str, model: str) -> str:
        """A row's voice as sent: for a VD or VC model, the visitor may name their own voice by the
        name they gave it (as their Design and Clone tabs show it) or by DashScope's name."""
        if not self.owner or not self.synthesizer.catalogue.model(model).family:
            return voice
        named = {own.label: own.voice for own in self.synthesizer.voices.mine(self.owner)}
        return named.get(voice, voice)


def _synthesize_row(row: BatchRow, model: str, run: _BatchRun) -> tuple[RowOutcome, bytes]:
    """The row's outcome and its audio (b"" unless it succeeded)."""
    if row.problem:
        raise InputError(row.problem)
    order = SpeechOrder(
        row.text,
        run.own_voice(row.voice, model),
        model,
        run.region,
        language_type=row.language,
        instructions=row.instructions,
        owner=run.owner,  # a row may name one of the visitor's own voices, with its VD or VC model
    )
    # The batch was admitted as one request; each row counts against the budget and the
    # shares as `visitor`, and a row served from the cache against the cached answers of the
    # `viewer` who runs it.
    speech = run.synthesizer.speech(
        order, visitor=run.visitor, api_key=run.api_key, viewer=run.viewer
    )
    result = speech.complete()
    outcome = _outcome(
        row,
        model,
        status="ok",
        file=_wav_name(row),
        audio_s=round(result.audio_s, 3),
        billed=result.billed,
        billing_unit=result.billing,
        cached=result.cached,
        request_id=result.request_id,
    )
    return outcome, result.pcm


def _attempt(
    row: BatchRow, model: str, run: _BatchRun
) -> tuple[RowOutcome, bytes, DemoError | None]:
    """The row's outcome, its audio, and the error that stopped it, if one did."""
    try:
        spoken = _synthesize_row(row, model, run)
        return (*spoken, None)
    except DemoError as err:
        return _failed(row, model, err), b"", err
    except Exception:  # a bug in one row must not lose the rows already made
        log.exception("Unexpected failure in batch row %d", row.row)
        err = unexpected_error()
        return _failed(row, model, err), b"", err


def run_batch(
    rows: Sequence[BatchRow],
    synthesizer: Synthesizer,
    out_dir: Path,
    region: str,
    api_key: str = "",
    default_model: str = "",
    progress: ProgressCallback | None = None,
    *,
    visitor: Visitor,
    owner: str = "",
) -> BatchResult:
    """Synthesize the rows one by one into a ZIP under out_dir, reporting each to `progress`.

    A row that fails is recorded and the batch goes on; once DashScope refuses the key, the
    remaining rows are skipped (each would fail the same way), and so are those left once the
    ZIP holds the settings' batch_max_mb. Raises MissingKeyError before any row when there is
    no key at all, and LimitReachedError when the visitor may not start another synthesis now
    (the batch counts as one; each row counts against the owner's budget). `owner` is the
    browser's owner token (voices.py): a row may name one of that browser's own voices with
    its VD or VC model, and only those.
    """
    synthesizer.route(region, api_key).open()  # no key at all: say so before any row
    run = _BatchRun(synthesizer, region, api_key, synthesizer.admit_batch(visitor), visitor, owner)
    default_model = default_model or synthesizer.catalogue.default_model
    max_zip_mb = synthesizer.settings.batch_max_mb
    out_dir.mkdir(parents=True, exist_ok=True)
    zip_path = out_dir / f"qwen-tts-batch_{time.strftime('%Y%m%d-%H%M%S')}.zip"
    outcomes: list[RowOutcome] = []
    stop: Message | None = None  # why the remaining rows are not tried
    zipped = 0  # bytes of audio in the ZIP
    with zipfile.ZipFile(zip_path, "w") as archive:
        for row in rows:
            model = row.model or default_model
            if stop is None and zipped >= max_zip_mb * 1024 * 1024:
                stop = say("batch_zip_full", mb=f"{max_zip_mb:g}")
            if stop is not None:
                outcome, pcm = _skipped(row, model, stop), b""
            else:
                outcome, pcm, err = _attempt(row, model, run)
                if isinstance(err, InvalidKeyError):
                    stop = say("row_skipped_key_refused")
            if pcm:
                wav = pcm_to_wav(pcm)
                archive.writestr(outcome.file, wav)
                zipped += len(wav)
            outcomes.append(outcome)
            if progress:
                progress(len(outcomes), len(rows), outcome)
        archive.writestr(MANIFEST_NAME, manifest_csv(outcomes), zipfile.ZIP_DEFLATED)
    return BatchResult(zip_path=zip_path, outcomes=tuple(outcomes))


def manifest_frame(outcomes: Sequence[RowOutcome]) -> pd.DataFrame:
    """The manifest as a table, one line per row of the CSV, in the CSV's order."""
    return pd.DataFrame([asdict(outcome) for outcome in outcomes], columns=list(MANIFEST_COLUMNS))


def manifest_csv(outcomes: Sequence[RowOutcome]) -> bytes:
    """The manifest file; UTF-8 with a BOM so that Excel shows Chinese text correctly.

    A text cell a spreadsheet would read as a formula (it starts with = + - @, a tab or a
    carriage return: `=HYPERLINK(...)`, `+cmd|...`, `-2+3`) is written with a leading
    apostrophe, so it shows as the text it is and never runs."""
    frame = manifest_frame(outcomes)
    for column in frame.columns:
        if frame[column].dtype == object:
            frame[column] = frame[column].map(neutralized)
    return frame.to_csv(index=False).encode("utf-8-sig")


def neutralized(cell: object) -> object:
    """A text cell that cannot start a spreadsheet formula (OWASP's CSV injection advice), its
    carriage returns made line feeds: pandas does not quote a cell holding a lone CR, and a
    spreadsheet would start a new row, and a formula, there."""
    if not isinstance(cell, str):
        return cell
    if cell.startswith(FORMULA_STARTS):
        cell = "'" + cell
    return cell.replace("\r\n", "\n").replace("\r", "\n")
