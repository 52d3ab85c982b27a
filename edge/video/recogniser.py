"""What the video pipeline needs from a plate recogniser.

`models.PlateReader` satisfies this protocol; tests and other recognisers may too. The pipeline
depends on the shape of a reading (text, confidence, format, box), not on the models package.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import numpy as np
import numpy.typing as npt

Frame = npt.NDArray[np.uint8]


class PlateBox(Protocol):
    @property
    def x(self) -> int: ...
    @property
    def y(self) -> int: ...
    @property
    def w(self) -> int: ...
    @property
    def h(self) -> int: ...


class PlateReading(Protocol):
    @property
    def text(self) -> str: ...
    @property
    def confidence(self) -> float: ...
    @property
    def format(self) -> str: ...
    @property
    def box(self) -> PlateBox: ...


class PlateRecogniser(Protocol):
    def read_plates(self, image: Frame, limit: int = 1) -> Sequence[PlateReading]:
        """Up to `limit` plates in `image`, best first, boxes in `image`'s pixels."""
        ...

    def warm_up(self, *image_shapes: tuple[int, ...]) -> None:
        """Prepare for images of these shapes (plan them), before the first frame is read."""
        ...
