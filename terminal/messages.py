"""Sentences for the officer and the payer, kept untranslated until shown.

The terminal's protocol code and service do not know who reads their outcome: the command line
shows it in the officer's language (the configuration's ``language``), a log in English. So
they raise ``SpokenError`` and return ``i18n.Text``, rendered later with
``translator("terminal", language)``.

An outcome is also kept in the journal (a retried payment answers with the first outcome, a
reversal appends its confirmation to the cause), so a ``Text`` is stored as JSON: its message
id and parameters, nested ``Text`` parameters included. Rows written before, holding an English
sentence, read back as that sentence.
"""

from __future__ import annotations

import json
from typing import Any

from i18n.text import Message, PluralText, Text


class SpokenError(Exception):
    """An error whose message is a sentence for a person: ``text`` is rendered in the reader's
    language; ``str()`` is the English sentence, for logs."""

    def __init__(self, text: Message) -> None:
        super().__init__(text.render(None))
        self.text: Message = text


def _encode_value(value: object) -> Any:
    if isinstance(value, Text | PluralText):
        return _encode(value)
    if isinstance(value, str | int | float) or value is None:
        return value
    return str(value)  # anything else is shown as it prints (an id, a path)


def _encode(message: Message) -> dict[str, Any]:
    params = {name: _encode_value(value) for name, value in message.params.items()}
    if isinstance(message, PluralText):
        return {
            "singular": message.singular,
            "plural": message.plural,
            "count": message.count,
            "params": params,
        }
    return {"text": message.message, "params": params}


def _decode_value(value: Any) -> object:
    if isinstance(value, dict):
        return _decode(value)
    return value


def _decode(data: dict[str, Any]) -> Message:
    params = {name: _decode_value(value) for name, value in data.get("params", {}).items()}
    if "singular" in data:
        return PluralText(data["singular"], data["plural"], int(data["count"]), **params)
    return Text(str(data["text"]), **params)


def encode_message(message: Message | None) -> str:
    """The journal's column: JSON, or '' for no message."""
    if message is None:
        return ""
    return json.dumps(_encode(message), ensure_ascii=False, separators=(",", ":"))


def decode_message(stored: str) -> Message | None:
    """What ``encode_message`` wrote; an English sentence of an older journal as it is."""
    if not stored:
        return None
    if stored.startswith("{"):
        try:
            data = json.loads(stored)
        except ValueError:
            return Text(stored)
        if isinstance(data, dict) and ("text" in data or "singular" in data):
            return _decode(data)
    return Text(stored)
