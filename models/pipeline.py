"""Whole-frame plate reading: text detection, candidate lines, recognition, format decoding.

No dedicated plate detector ships under a permissive licence, so plates are found as text:
every detected text box is read, and so are merges of 2-3 neighbouring boxes on one line
(plates split at separators, emblems and the region box), then the most plate-like reading wins.

Detection dominates the cost and grows with the detector's input area, so a frame is searched
on a ladder of input sizes, smallest first, stopping at the first size where a candidate reads
as a confident plate (`_ends_search`): an optional `coarse_side`, then `detector_side`,
then any larger `fine_sides`. Most plates are found on the first rung; small plates (30-40 px
high in a 720p frame) only show in the detector's map at the larger ones, and the frames that
need them pay for them. A rung larger than the frame itself is skipped, and a line that a
smaller rung already read is not read again. A frame where no rung read a plate at all is
searched once more with its contrast equalised (dusk, night, haze; `_seen_by_the_detector`).

When only the best plate is wanted, candidates are read tallest first and reading stops once no
shorter candidate could outscore the best so far, even read perfectly (see `_cannot_win`).

The best plate of a rung, when lower than REFINE_HEIGHT px or not yet confident, is looked at
once more before the acceptance test: the region around it is scaled to put its text at about
REFINE_HEIGHT px (enlarged, or reduced for a tall one) and searched again, and the lines on the
plate's own line are read. Lines the whole-frame pass merged or cut (state names, frame
lettering and stickers around small plates) come apart at that scale, and a box the coarse rung
drew loose around a close plate is drawn again tight; the re-read replaces the first one's text
only when it scores at least as well. A plate of a fixed layout that both looks read alike is
accepted at a lower score than one read once (CONFIRMED_ACCEPT_SCORE).

OpenVINO plans each input shape the first time it sees it; `warm_up` runs every shape a camera's
frames lead to (rungs, enlarged regions, crop widths) once at start.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

from models.lines import (
    candidate_boxes,
    region_field_boxes,
    region_fields,
    stacked_lines,
)
from models.manifest import load_manifest, verify
from models.ocr import (
    RECOGNISER_MIN_WIDTH,
    SHAPE_STEP,
    Box,
    Image,
    TextBox,
    TextDetector,
    TextRead,
    TextRecognizer,
)
from models.plate_format import (
    FORMAT_NAMES,
    GENERIC,
    TWO_LINE_FORMATS,
    FormatFamily,
    PlateText,
    awaits_region,
    decode,
    may_be_cut_short,
    plate_likeness,
)
from models.regions import (
    REFINE_HEIGHT,
    SURROUNDINGS_SIZES,
    WARM_UP_MAX_WIDTH,
    enlarged_surroundings,
    equalise_contrast,
    margin_span,
    on_canvas,
)
from models.runtime import Inference, Precision, Runtime, choose_precision, cpu_flags, resolve

DETECTOR = "text_detector"
DETECTOR_INT8 = "text_detector_int8"  # the same detector quantised (models.quantise)
RECOGNIZER = "text_recognizer"
MIN_CANDIDATE_CONFIDENCE = 0.3
KNOWN_FORMAT_BONUS = 1.1
# A reading this plate-like ends the search up the ladder (see the module doc): plate-like text
# whose least certain character the recogniser gives about 0.9. At 0.7, truncated reads of small
# plates (K7551 for AJK7551) stopped the search a rung too early (us exact 0.833 against 0.842).
ACCEPT_SCORE = 0.85
# ... as does a reading of one of the fixed layouts (not `generic`, not `us`, whose layout is
# any 5-8 characters) scoring at least this, whose second look read the same text. A larger
# rung searches the whole frame again at 2-4 times the cost (80-300 ms) and, for text already
# read twice, mostly reads it again: plates of Brazil's O/0/D/Q series score 0.5-0.8 at every
# rung. Accepting those cut br's p95 from 420 to 180 ms with the same 113 of 114 read, and read
# one more plate of each synthetic Kazakh development set (seeds 99 and 101: models.synth;
# p95 340 -> 160 ms and 366 -> 198 ms). For `us` it read one more and lost two (a letter
# read into SH0R7X, AG6VIW for AG6V1W, both read right a rung later): not used there.
CONFIRMED_ACCEPT_SCORE = 0.5
# The second look that `read_plates` gives each plate it returns goes to readings scoring at
# least this (after `_favour_tall_text`): car badges and stickers read along with a plate
# (SANDERO, RALLYE: 0.2-0.35) cost 20-30 ms a photo, and none read as a plate after it on the
# br, us and synthetic Kazakh sets.
SECOND_LOOK_MIN_SCORE = 0.5
# The contrast-equalised look is for frames in which the detector saw no plate: one where a
# rung read a plate of a known layout (`us` included) scoring at least this is not searched
# again. Equalised again, such frames gave no plate read better on the br, us and synthetic
# Kazakh sets (seeds 99, 101) and cost 50-80 ms: us p95 450 -> 320-390 ms, br 180 -> 115-130.
SEEN_SCORE = 0.5
# A line found again on a larger rung, overlapping one already read at least this much, is the
# same crop give or take a pixel: its reading would be the same.
SAME_LINE_IOU = 0.9


@dataclass(frozen=True)
class PlateReading:
    """The best plate found in a frame: decoded text, its box and the raw recogniser text."""

    text: str
    confidence: float
    format: str
    box: Box
    raw: str
    score: float
    refined: bool = False  # read a second time enlarged (PlateReader.refine)
    confirmed: bool = False  # ... and the second look read the same text (`_ends_search`)


def candidate_score(reading: PlateText, box: Box) -> float:
    """Rank readings: plate-like text, recogniser confidence, plate-like box shape."""
    likeness = plate_likeness(reading.text)
    if likeness == 0.0 or reading.confidence < MIN_CANDIDATE_CONFIDENCE:
        return 0.0
    aspect = box.w / max(1, box.h)
    shape = 1.0 if 1.5 <= aspect <= 8.0 else 0.5
    known_format = KNOWN_FORMAT_BONUS if reading.format not in ("generic", "") else 1.0
    return likeness * reading.confidence * shape * known_format


def _standing(score: float, height: int) -> float:
    """A reading's score after `_favour_tall_text`, times sqrt(tallest): `tallest` divides every
    reading's final score alike, so comparing standings holds whatever taller plate-like text
    turns up later."""
    return score * math.sqrt(height)


def _cannot_win(height: int, best: PlateReading | None) -> bool:
    """Whether a candidate `height` px high loses to `best` however well it reads (a reading
    scores at most KNOWN_FORMAT_BONUS)."""
    if best is None:
        return False
    return _standing(KNOWN_FORMAT_BONUS, height) < _standing(best.score, best.box.h)


def _ends_search(best: PlateReading) -> bool:
    """Whether the best reading so far ends the search up the ladder: a confident plate, or
    one of a fixed layout that its second look read the same (see CONFIRMED_ACCEPT_SCORE)."""
    if best.score >= ACCEPT_SCORE:
        return True
    return best.confirmed and best.format in FORMAT_NAMES and best.score >= CONFIRMED_ACCEPT_SCORE


def _read_for_sure(reading: PlateReading) -> bool:
    """Whether a reading needs no second look, however small: a confident plate of a fixed
    layout that no longer plate of its layout could have been read short as. The second look
    is for truncated and merged reads of small text; such a plate read whole gains nothing
    from it (no plate of the br, us or synthetic Kazakh sets read differently without it),
    and skipping it saved a quarter of the reads and a fifth of the detector runs on the
    synthetic Kazakh set (seed 99: 3.1 -> 2.4 reads a photo)."""
    return (
        reading.score >= ACCEPT_SCORE
        and reading.format in FORMAT_NAMES
        and not may_be_cut_short(reading.text, reading.format)
    )


def _seen_by_the_detector(readings: Sequence[PlateReading]) -> bool:
    """Whether the rungs read a plate of a known layout, if not a confident one: the frame's
    contrast is then no reason the search found no plate (see SEEN_SCORE)."""
    return any(
        reading.score >= SEEN_SCORE and reading.format not in (GENERIC, "") for reading in readings
    )


def _favour_tall_text(readings: list[PlateReading]) -> list[PlateReading]:
    """The plate of the vehicle in view is the tallest plate-like text; smaller plate-like
    strings are distant vehicles, stickers and signs."""
    tallest = max((reading.box.h for reading in readings if reading.score > 0), default=0)
    if tallest == 0:
        return readings
    return [
        replace(reading, score=reading.score * math.sqrt(reading.box.h / tallest))
        for reading in readings
    ]


class PlateReader:
    """Reads the most plate-like text in a frame; verifies the model checksums on start."""

    def __init__(
        self,
        expected: Iterable[FormatFamily] = (FormatFamily.KZ,),
        detector_side: int = 960,
        threads: int = 2,
        coarse_side: int | None = None,
        fine_sides: Sequence[int] = (),
        runtime: Runtime = Runtime.AUTO,
        precision: Precision = Precision.AUTO,
    ) -> None:
        self.expected = tuple(expected)
        coarse = (coarse_side,) if coarse_side is not None and coarse_side < detector_side else ()
        fine = tuple(sorted({side for side in fine_sides if side > detector_side}))
        self.detector_side = detector_side
        self.sides = (*coarse, detector_side, *fine)
        models = load_manifest()
        inference = Inference(resolve(runtime), threads)
        # The int8 detector is an OpenVINO model (models.quantise).
        int8_shipped = inference.runtime is Runtime.OPENVINO and DETECTOR_INT8 in models
        self.precision = choose_precision(precision, int8_shipped, cpu_flags())
        detector = DETECTOR_INT8 if self.precision is Precision.INT8 else DETECTOR
        verify({name: models[name] for name in (detector, RECOGNIZER)})
        self._detector = TextDetector(models[detector].path, detector_side, inference)
        self._recognizer = TextRecognizer(models[RECOGNIZER].path, inference)
        self.runtime = inference.runtime

    def warm_up(self, *image_shapes: tuple[int, ...]) -> None:
        """Run the models once on every input shape that images of `image_shapes` (the
        camera's frame, the motion gate's regions) lead to: each rung's size, the second
        look's enlarged regions and the crop widths. OpenVINO plans each shape the first time
        it sees it (20-70 ms), which would otherwise fall on the first vehicles."""
        self._detector.prepare(
            {
                self._detector.input_size(shape, side)
                for shape in image_shapes
                for side in self.sides
            }
            | set(SURROUNDINGS_SIZES)
        )
        self._recognizer.prepare(range(RECOGNISER_MIN_WIDTH, WARM_UP_MAX_WIDTH + 1, SHAPE_STEP))

    def precisions(self) -> dict[str, dict[str, object]]:
        """What each model computes in, as its runtime reports it."""
        return {
            "text_detector": self._detector.precision(),
            "text_recognizer": self._recognizer.precision(),
        }

    def stage_seconds(self) -> dict[str, float]:
        """Seconds spent so far detecting text and reading lines (for the figures)."""
        return {"detect": self._detector.seconds, "recognise": self._recognizer.seconds}

    def candidates(self, image: Image, only_best: bool = False) -> list[PlateReading]:
        """Candidate lines read and decoded, scored by plate-likeness and relative size: every
        one, or with `only_best` those that could still be the best plate."""
        readings: list[PlateReading] = []
        searched: set[tuple[int, int]] = set()
        for side in self.sides:
            size = self._detector.input_size(image.shape, side)
            if size in searched:
                continue  # a rung beyond the frame's own size would search it again as it was
            searched.add(size)
            readings += self._read_lines(
                image, self._detector.detect(image, side), only_best=only_best, known=readings
            )
            best = max(readings, key=lambda reading: reading.score, default=None)
            if best is None or best.score == 0.0:
                continue
            if (
                best.box.h < REFINE_HEIGHT and not _read_for_sure(best)
            ) or best.score < ACCEPT_SCORE:
                best_again = self.refine(image, best, tall_too=True)
                readings[readings.index(best)] = best_again
                best = best_again
            if _ends_search(best):
                break
        else:
            if not _seen_by_the_detector(readings):
                enhanced = equalise_contrast(image)
                readings += self._read_lines(
                    enhanced,
                    self._detector.detect(enhanced, self.detector_side),
                    only_best=only_best,
                )
        return _favour_tall_text(readings)

    def _read_lines(
        self,
        image: Image,
        boxes: Sequence[TextBox],
        origin: tuple[int, int] = (0, 0),
        zoom: float = 1.0,
        only_best: bool = False,
        known: Sequence[PlateReading] = (),
        on_line_of: Box | None = None,
    ) -> list[PlateReading]:
        """Read the candidate lines, tallest first; boxes are reported in the frame's pixels
        (`image` being the frame's region at `origin` enlarged `zoom` times). With `only_best`,
        stop at the first candidate that cannot beat the best reading so far. A line that a
        `known` reading (one of the frame's smaller rungs) already covered is not read again;
        with `on_line_of`, only lines on that box's text line are read."""
        readings: list[PlateReading] = []
        best: PlateReading | None = None
        lines = candidate_boxes(boxes)
        stacked = {top.union(bottom): (top, bottom) for top, bottom in stacked_lines(lines)}
        beside = {line.union(code): (line, code) for line, code in region_fields(lines)}
        joined = {**beside, **stacked}
        reads: dict[tuple[int, int, int, int], TextRead] = {}  # by the crop's corners
        parts_of_plates: set[Box] = set()
        numbers_with_region: list[tuple[str, Box]] = []  # (number as read alone, plate's box)

        def to_frame(box: Box) -> Box:
            return Box(
                origin[0] + round(box.x / zoom),
                origin[1] + round(box.y / zoom),
                round(box.w / zoom),
                round(box.h / zoom),
            )

        for box in sorted([*lines, *joined], key=lambda box: box.h, reverse=True):
            if only_best and _cannot_win(round(box.h / zoom), best):
                break
            if zoom == 1.0 and any(box.iou(reading.box) >= SAME_LINE_IOU for reading in known):
                continue
            in_frame = to_frame(box)
            if on_line_of is not None and not _share_a_line(in_frame, on_line_of):
                continue
            parts = joined.get(box, (box,))
            read = self._read_parts(image, parts, reads, side_by_side=box in beside)
            decoded = decode(read.text, read.confidences, self.expected, two_line=box in stacked)
            if len(parts) > 1 and decoded.format not in (
                TWO_LINE_FORMATS if box in stacked else FORMAT_NAMES
            ):
                continue
            if len(parts) == 1 and decoded.format not in FORMAT_NAMES:
                with_region = self._with_region_field(image, box, read)
                if with_region is not None:
                    number = decoded.text
                    decoded, field, read = with_region
                    in_frame = to_frame(box.union(field))
                    numbers_with_region.append((number, in_frame))
            # A two-line plate's shape is its lines', not the near-square of both together.
            score = candidate_score(decoded, max(parts, key=lambda part: part.w))
            if len(parts) > 1 and score > 0:
                parts_of_plates.update(to_frame(part) for part in parts)
            reading = PlateReading(
                decoded.text, decoded.confidence, decoded.format, in_frame, read.text, score
            )
            readings.append(reading)
            if score > 0 and (
                best is None or _standing(score, in_frame.h) > _standing(best.score, best.box.h)
            ):
                best = reading
        # A line that is a part of a known layout read whole (one line of a two-line plate,
        # a number without its region code) is no plate by itself; nor is the number read
        # alone again (from a merge of boxes, say) where it was read with its region field.
        return [
            replace(reading, score=0.0)
            if reading.box in parts_of_plates
            or any(
                reading.text == number and reading.box.iou(plate) > 0
                for number, plate in numbers_with_region
            )
            else reading
            for reading in readings
        ]

    def _read_parts(
        self,
        image: Image,
        parts: Sequence[Box],
        reads: dict[tuple[int, int, int, int], TextRead],
        side_by_side: bool = False,
    ) -> TextRead:
        """The lines `parts` read in turn and joined (each crop read once per call of
        `_read_lines`: a line is a candidate alone and a part of stacked ones). Parts
        `side_by_side` (a number and its region field) are cut apart at their seam: the
        margin that catches a line's cut end glyphs would read the field's first digit into
        the number too (M336PX9 + 912)."""
        texts: list[str] = []
        confidences: list[float] = []
        for index, part in enumerate(parts):
            left, right = margin_span(image, part)
            if side_by_side and index > 0:
                left = max(left, part.x)
            if side_by_side and index + 1 < len(parts):
                right = min(right, max(part.x + 1, parts[index + 1].x))
            key = (left, part.y, right, part.y2)
            if key not in reads:
                reads[key] = self._recognizer.read(image[part.y : part.y2, left:right])
            texts.append(reads[key].text)
            confidences += reads[key].confidences
        return TextRead("".join(texts), tuple(confidences))

    def _with_region_field(
        self, image: Image, box: Box, read: TextRead
    ) -> tuple[PlateText, Box, TextRead] | None:
        """The line read as a number together with its region field (models.lines
        .REGION_BESIDE), the field's box and both reads joined; None when the line is no such
        number or no field reads as its region."""
        if not awaits_region(decode(read.text).text, self.expected):
            return None
        for field in region_field_boxes(box, image.shape):
            code = self._recognizer.read(image[field.y : field.y2, field.x : field.x2])
            if not 2 <= len(code.text) <= 3:
                continue
            joined = TextRead(read.text + code.text, (*read.confidences, *code.confidences))
            decoded = decode(joined.text, joined.confidences, self.expected, two_line=False)
            # The field beside the line first: read as a region there, it is one; the line's
            # own right end is tried only then, as it reads the number's last characters when
            # the box holds the number alone.
            if decoded.format in FORMAT_NAMES:
                return decoded, field, joined
        return None

    def refine(self, image: Image, reading: PlateReading, tall_too: bool = False) -> PlateReading:
        """Search and read a small plate's surroundings again, enlarged (see the module doc);
        with `tall_too`, a plate REFINE_HEIGHT px or taller too, at REFINE_HEIGHT px."""
        box = reading.box
        if (box.h >= REFINE_HEIGHT and not tall_too) or reading.refined:
            return reading
        region, (x1, y1), zoom = enlarged_surroundings(image, box)
        same_line = [
            again
            for again in self._read_lines(
                region,
                self._detector.detect(*on_canvas(region)),
                (x1, y1),
                zoom,
                on_line_of=box,
            )
            if again.score > 0
        ]
        best = max(same_line, key=lambda again: again.score, default=None)
        # A known layout read whole is not replaced by a string of no layout (its number
        # without the region code, say), however confidently that is read.
        demoted = (
            reading.format in FORMAT_NAMES and best is not None and best.format not in FORMAT_NAMES
        )
        confirmed = best is not None and best.text == reading.text
        if best is None or best.score < reading.score or demoted:
            return replace(reading, refined=True, confirmed=confirmed)
        # The text is the second look's; the box stays the first pass's, which spans the
        # plate rather than only its glyphs (evidence crops and tracking use it).
        return replace(best, box=box, refined=True, confirmed=confirmed)

    def read_plates(self, image: Image, limit: int = 1) -> list[PlateReading]:
        """Up to `limit` plate readings, best first, no two on overlapping boxes."""
        ranked = sorted(
            self.candidates(image, only_best=limit == 1),
            key=lambda reading: reading.score,
            reverse=True,
        )
        chosen: list[PlateReading] = []
        for reading in ranked:
            if reading.score == 0.0 or len(chosen) == limit:
                break
            if not any(reading.box.iou(kept.box) > 0 for kept in chosen):
                chosen.append(reading)
        return [
            self.refine(image, reading)
            if reading.score >= SECOND_LOOK_MIN_SCORE and not _read_for_sure(reading)
            else reading
            for reading in chosen
        ]

    def read(self, image: Image) -> PlateReading | None:
        """The most plate-like reading in the frame, or None when nothing looks like a plate."""
        plates = self.read_plates(image, limit=1)
        return plates[0] if plates else None


def _share_a_line(first: Box, second: Box) -> bool:
    """Whether the boxes overlap vertically by more than half the lower one's height."""
    return min(first.y2, second.y2) - max(first.y, second.y) > 0.5 * min(first.h, second.h)
