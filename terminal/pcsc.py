"""PC/SC adapter (pyscard): a contact or contactless reader as an ``ApduChannel``."""

from __future__ import annotations

import contextlib
from types import TracebackType

from smartcard.CardConnection import CardConnection  # type: ignore[import-untyped]
from smartcard.Exceptions import CardConnectionException, NoCardException  # type: ignore[import-untyped]
from smartcard.pcsc.PCSCExceptions import BaseSCardException  # type: ignore[import-untyped]
from smartcard.System import readers  # type: ignore[import-untyped]

from i18n.text import Text
from terminal.emv import CardError, CardRemoved


class PcscCard:
    """The card in the first reader whose name starts with ``reader_prefix``."""

    def __init__(self, reader_prefix: str) -> None:
        try:
            names = [reader for reader in readers() if str(reader).startswith(reader_prefix)]
        except BaseSCardException as exc:
            raise CardError(
                Text("The card reader service (pcscd) is not running: restart the terminal.")
            ) from exc
        if not names:
            raise CardError(
                Text("No card reader named %(reader)s is connected.", reader=reader_prefix)
            )
        self._connection = names[0].createConnection()
        try:
            self._connection.connect(CardConnection.T1_protocol | CardConnection.T0_protocol)
        except (NoCardException, CardConnectionException) as exc:
            raise CardError(Text("No card in the reader: insert or tap the card.")) from exc

    def transmit(self, apdu: bytes) -> tuple[bytes, int]:
        try:
            data, sw1, sw2 = self._connection.transmit(list(apdu))
        except (NoCardException, CardConnectionException) as exc:
            raise CardRemoved from exc
        return bytes(data), (sw1 << 8) | sw2

    def close(self) -> None:
        with contextlib.suppress(CardConnectionException):  # the card may already be gone
            self._connection.disconnect()

    def __enter__(self) -> PcscCard:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()
