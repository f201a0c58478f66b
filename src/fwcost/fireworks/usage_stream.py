"""billingUsage's body → its typed rows, a few hundred rows decoded at a time.

A day of a large account is a million rows (~470 MB of JSON): `json.loads` of it builds a million
dicts (~2.4 GB) before the first row is parsed. Here the body is decoded to text a chunk at a
time, and the rows go through the stdlib's own JSON scanner (decode_json's settings) a batch at a
time (one call for the rows of up to BATCH_CHARS characters: a call per row cost as much as the
scanning), are parsed into their typed records and dropped, so only the typed rows stay.

The result is exactly that of `parse_serverless`/`parse_dedicated`/`parse_training` on
`decode_json(body)`: the same rows, the same errors, chosen in the same order. A body that is not
valid JSON anywhere raises MalformedBodyError (retried) even when an earlier row is wrong; then
a stream whose rows are not all objects names its first such row; then its first wrong field;
streams are checked serverless, dedicated, training; a key given twice counts its last value
(as json.loads does). Lone surrogate escapes are replaced as decode_json replaces them.
"""

from __future__ import annotations

import codecs
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from json.scanner import make_scanner
from typing import Any

from fwcost.fireworks.errors import FireworksParseError
from fwcost.fireworks.parse import (
    MalformedBodyError,
    ReportWindow,
    _without_lone_surrogates,
    dedicated_row,
    has_surrogate_escape,
    parse_dedicated,
    parse_serverless,
    parse_training,
    serverless_row,
    training_row,
)
from fwcost.model import DedicatedUsage, ServerlessUsage, TrainingUsage

Usage = ServerlessUsage | DedicatedUsage | TrainingUsage

# Bytes decoded to text at a time: large enough that the per-chunk work vanishes, small
# enough to be nothing next to the body itself.
CHUNK_BYTES = 1 << 20
# Characters of rows decoded together (whole_values): enough that a Python call per batch is
# nothing, few enough that the batch's dicts (~5x its text) are a few MB at most.
BATCH_CHARS = 1 << 16

_DECODER = json.JSONDecoder(parse_float=Decimal, parse_constant=Decimal)
# One value at a place in a text: (value, end), as JSONDecoder scans (typeshed's stub names
# the wrong type for the argument).
_scan = make_scanner(_DECODER)  # type: ignore[arg-type]
_SPACES = " \t\n\r"
_NOT_WHITESPACE = re.compile(r"[^ \t\n\r]")  # JSON's whitespace, as json.decoder has it
# The most a number cut short by the end of the text can leave unread after the part that
# reads as a number: "e+" of "1e+" (then "1e+5"), "." of "12." (then "12.5").
_NUMBER_TAIL = 2

# Each stream: its per-row parser, and the whole-document parser whose rules a value that is
# not a list follows (null is no rows, anything else is an error naming the stream).
_STREAMS: dict[str, tuple[Callable[[Any, str, ReportWindow], Usage], Callable[..., list[Any]]]] = {
    "serverlessCosts": (serverless_row, parse_serverless),
    "dedicatedCosts": (dedicated_row, parse_dedicated),
    "trainingCosts": (training_row, parse_training),
}


def decode_usage(
    body: bytes, window: ReportWindow, source: str, chunk_bytes: int = CHUNK_BYTES
) -> list[Usage]:
    """Every stream of one billingUsage body, parsed; a stream that is absent has no rows."""
    text = _Text(body, chunk_bytes)
    streams: dict[str, _Stream] = {}
    fix_surrogates = has_surrogate_escape(body)
    if text.peek() != "{":
        value = text.value()
        text.expect_end()
        raise MalformedBodyError(f"body is JSON but not an object (a {type(value).__name__})")
    text.advance()
    if text.peek() == "}":
        text.advance()
    else:
        while True:
            key = text.key()
            if fix_surrogates:
                key = _without_lone_surrogates(key)
            if key in _STREAMS:
                streams[key] = _read_stream(text, key, window, source, fix_surrogates)
            else:
                text.value()
            if text.separator("}"):
                break
    text.expect_end()
    # The first stream's list extended, not copied: a million rows are 8 MB of list
    results = [streams[name].result() for name in _STREAMS if name in streams]
    rows: list[Usage] = results[0] if results else []
    for more in results[1:]:
        rows += more
    return rows


@dataclass
class _Stream:
    """One stream's rows as parsed so far, and the first of each kind of error met."""

    rows: list[Usage] = field(default_factory=list)
    not_an_object: FireworksParseError | None = None
    wrong_field: FireworksParseError | None = None

    def result(self) -> list[Usage]:
        error = self.not_an_object or self.wrong_field
        if error is not None:
            raise error
        return self.rows


def _read_stream(
    text: _Text, name: str, window: ReportWindow, source: str, fix_surrogates: bool
) -> _Stream:
    parse_row, parse_document = _STREAMS[name]
    stream = _Stream()
    if text.peek() != "[":  # null or not a list: the document parser's rules
        value = text.value()
        if fix_surrogates:
            value = _without_lone_surrogates(value)
        try:
            parse_document({name: value}, window, source)
        except FireworksParseError as error:
            stream.wrong_field = error
        return stream
    text.advance()
    if text.peek() == "]":
        text.advance()
        return stream
    index = 0
    while True:
        # The rows the text already holds whole, in one go, then one more (read on into the
        # body as far as it takes) and what follows it: a comma, or the list's end.
        rows = text.whole_values()
        rows.append(text.value())
        for row in rows:
            if fix_surrogates:
                row = _without_lone_surrogates(row)
            if type(row) is not dict and not isinstance(row, Mapping):
                if stream.not_an_object is None:
                    stream.not_an_object = FireworksParseError(
                        f"{source}: {name}[{index}] must be an object, got {row!r}"
                    )
            elif stream.wrong_field is None and stream.not_an_object is None:
                try:  # unnamed: a row's location is built only for a row that is wrong
                    stream.rows.append(parse_row(row, "", window))
                except FireworksParseError:
                    stream.wrong_field = _error(
                        parse_row, row, f"{source}: {name}[{index}]", window
                    )
            index += 1
        if text.separator("]"):
            return stream


def _error(
    parse_row: Callable[[Any, str, ReportWindow], Usage], row: Any, where: str, window: ReportWindow
) -> FireworksParseError:
    """The error of a row its parser refused, naming the row: the same parse again (it refuses
    the same field, for the same reason)."""
    try:
        parse_row(row, where, window)
    except FireworksParseError as error:
        return error
    raise AssertionError(f"{where}: refused, then parsed")  # a parser is a function of its row


def _last_value_end(text: str, start: int, stop: int) -> int:
    """The place of the last "}" in text[start:stop] that a comma follows (JSON whitespace
    between them allowed), before any "]" (a list's end, or a nested list: a cut there cannot
    decode); -1 if none."""
    limit = text.find("]", start, stop)
    end = stop if limit < 0 else limit
    while (comma := text.rfind(",", start, end)) >= 0:
        before = comma - 1
        while before >= start and text[before] in _SPACES:
            before -= 1
        if before >= start and text[before] == "}":
            return before
        end = comma
    return -1


class _Text:
    """The body as text, decoded a chunk at a time as the reader needs it; what was read is
    dropped, so the text held is about one chunk (or one row, if a row is larger)."""

    def __init__(self, body: bytes, chunk_bytes: int) -> None:
        try:  # json.loads's own choice of encoding and error handler
            encoding = json.detect_encoding(body)
            self._decoder = codecs.getincrementaldecoder(encoding)("surrogatepass")
        except LookupError as error:
            raise MalformedBodyError(f"body is not valid JSON ({error})") from None
        self._body = memoryview(body)
        self._read = 0  # bytes of the body decoded so far
        self._chunk = chunk_bytes
        self._text = ""
        self._at = 0  # the reader's place in self._text
        self._dropped = 0  # characters before self._text, for error positions
        # whole_values failed up to here (characters from the start of the body): not again
        self._undecodable = -1

    def peek(self) -> str:
        """The next character that is not whitespace; "" at the end of the body."""
        while True:
            found = _NOT_WHITESPACE.search(self._text, self._at)
            if found is not None:
                self._at = found.start()
                return self._text[self._at]
            self._at = len(self._text)
            if not self._more():
                return ""

    def advance(self) -> None:
        self._at += 1

    def value(self) -> Any:
        """The next JSON value, decoded as json.loads would."""
        text, at = self._text, self._at
        if at < len(text) and text[at] not in _SPACES:  # the common case: a row right here
            try:
                value, end = _scan(text, at)
            except (StopIteration, json.JSONDecodeError):
                pass  # cut short by the end of the text, or wrong: the slow path tells which
            else:
                if end < len(text) - _NUMBER_TAIL:
                    self._at = end
                    return value
        return self._value_read_on()

    def whole_values(self) -> list[Any]:
        """The values of a list from here that the text holds whole, each followed by a comma,
        decoded as json.loads would; the reader is then past the last one's comma.

        One scanner call for a batch of rows instead of one per row: the scanner's own loop
        over a list costs far less than a Python call per row. The values are the list
        "[" + text (up to BATCH_CHARS of it) up to the last object's closing brace that a
        comma follows + "]". That text decodes as a list only if the cut is a true end of a
        value of this list: a cut inside a string leaves the string open, a cut inside a
        nested object or list leaves it open; and then the scanner reads each value exactly
        as it would read it alone. Anything else (no such brace, a text that does not
        decode, a row nested as deep as the recursion limit allows, which the list nests one
        deeper): [], and the caller reads row by row, which finds and names what is wrong.
        """
        if len(self._text) - self._at < BATCH_CHARS:
            # Little is left: the next chunk first, so that the row it cuts is read whole
            # (a scan that fails far into the text costs a count of the lines before it).
            self._more()
        text, at = self._text, self._at
        if self._dropped + at <= self._undecodable:
            return []  # tried from an earlier place and failed: row by row up to there
        stop = min(len(text), at + BATCH_CHARS)
        end = _last_value_end(text, at, stop)
        if end < 0:  # none: row by row past where it looked
            self._undecodable = self._dropped + stop
            return []
        wrapped = "[" + text[at : end + 1] + "]"
        try:
            values, decoded_to = _scan(wrapped, 0)
        except (StopIteration, ValueError, RecursionError):
            decoded_to = -1
        if decoded_to != len(wrapped):  # not one list: the cut was wrong or the text is
            self._undecodable = self._dropped + end
            return []
        self._at = text.index(",", end) + 1
        assert isinstance(values, list)  # a JSON value that starts with "[" is a list
        return values

    def _value_read_on(self) -> Any:
        self.peek()
        while True:
            try:
                value, end = _DECODER.raw_decode(self._text, self._at)
            except json.JSONDecodeError as error:
                if self._more():
                    continue  # the value ran past the text decoded so far
                raise self._malformed(error.msg, error.pos) from None
            # A value that ends near the end of the text may be a number cut short: read on.
            if end < len(self._text) - _NUMBER_TAIL or not self._more():
                self._at = end
                return value

    def key(self) -> str:
        if self.peek() != '"':
            raise self._malformed("Expecting property name enclosed in double quotes", self._at)
        key = self.value()
        if self.peek() != ":":
            raise self._malformed("Expecting ':' delimiter", self._at)
        self.advance()
        assert isinstance(key, str)  # a JSON value that starts with a quote is a string
        return key

    def separator(self, closing: str) -> bool:
        """Past a comma (False: more follows) or the closing bracket (True)."""
        at = self._at
        char = self._text[at] if at < len(self._text) else ""
        if char in _SPACES or not char:
            char = self.peek()
        if char not in (",", closing) or not char:
            raise self._malformed(f"Expecting ',' delimiter or {closing!r}", self._at)
        self._at += 1
        return char == closing

    def expect_end(self) -> None:
        if self.peek():
            raise self._malformed("Extra data", self._at)

    def _more(self) -> bool:
        """Decodes more of the body onto the text (at least as much as is held: a row larger
        than a chunk is decoded again a bounded number of times); False at the end."""
        if self._read >= len(self._body):
            return False
        size = max(self._chunk, len(self._text) - self._at)
        piece = self._body[self._read : self._read + size]
        self._read += len(piece)
        try:
            decoded = self._decoder.decode(piece, final=self._read >= len(self._body))
        except UnicodeDecodeError as error:
            raise MalformedBodyError(f"body is not valid JSON ({error})") from None
        self._dropped += self._at
        self._text = self._text[self._at :] + decoded
        self._at = 0
        return True

    def _malformed(self, message: str, position: int) -> MalformedBodyError:
        return MalformedBodyError(
            f"body is not valid JSON ({message}: character {self._dropped + position:,})"
        )
