"""Read text from page images (scanned PDF pages, .png/.jpg files) offline on the CPU.

The engine is RapidOCR (PP-OCR Chinese/English detection and recognition as ONNX models shipped inside the
``rapidocr`` wheel, run by onnxruntime): nothing is downloaded. Each worker thread has its own engine with one
onnxruntime thread, and pages are recognised by a bounded pool of :data:`OCR_WORKERS` threads, so a 20-page scan
uses every core without holding more than a few rendered pages in memory, and reports progress page by page.

Recognised line boxes are put in reading order here (top to bottom, then left to right within a line; a vertical
gap larger than a line's height starts a new paragraph) rather than trusting the detector's order.
"""

from __future__ import annotations

import io
import logging
import os
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

from rag.errors import DocumentError

OCR_WORKERS = max(1, min(4, os.cpu_count() or 1))
MIN_LINE_SCORE = 0.5
"""Lines the recogniser is less sure of than this are dropped: they are noise (stamps, table rules, specks)."""

MAX_IMAGE_PIXELS = 60_000_000
"""A larger image is refused: 60 MP is an A3 scan at 600 dpi; beyond that it is a decompression bomb, not a page."""

OCR_LONG_SIDE = 2000
"""Pages are rendered so their longer side is this many pixels (≈ 170 dpi on A4): the detector's own working size."""

PageProgress = Callable[[int, int], None]  # (pages done, pages total)


@dataclass(frozen=True)
class OcrLine:
    """One recognised line: its text, confidence and box (x0, y0, x1, y1) in image pixels."""

    text: str
    score: float
    box: tuple[float, float, float, float]


@dataclass(frozen=True)
class OcrPage:
    width: int
    height: int
    lines: tuple[OcrLine, ...]

    @property
    def text(self) -> str:
        return reading_order_text(self.lines)


_local = threading.local()


def _engine():
    """This thread's RapidOCR engine (created on first use; the models load in well under a second)."""
    engine = getattr(_local, "engine", None)
    if engine is None:
        try:
            from rapidocr import RapidOCR
        except ImportError as exc:  # pragma: no cover - a pinned dependency; only a broken install lacks it
            raise DocumentError("OCR is not available (the rapidocr package is missing)",
                                hint="reinstall yuanwen: pip install -e .") from exc
        logging.getLogger("RapidOCR").setLevel(logging.ERROR)
        engine = RapidOCR(params={"Global.log_level": "error",
                                  "EngineConfig.onnxruntime.intra_op_num_threads": 1,
                                  "EngineConfig.onnxruntime.inter_op_num_threads": 1})
        _local.engine = engine
    return engine


def recognise(image) -> OcrPage:
    """OCR one page image (a PIL image or an RGB array)."""
    import numpy as np

    array = np.asarray(image.convert("RGB")) if hasattr(image, "convert") else np.asarray(image)
    height, width = array.shape[:2]
    result = _engine()(array)
    lines = []
    for box, text, score in zip(result.boxes if result.boxes is not None else [], result.txts or (),
                                result.scores or ()):
        text = (text or "").strip()
        if not text or score < MIN_LINE_SCORE:
            continue
        xs = [float(p[0]) for p in box]
        ys = [float(p[1]) for p in box]
        lines.append(OcrLine(text, float(score), (min(xs), min(ys), max(xs), max(ys))))
    return OcrPage(width, height, tuple(lines))


def reading_order_text(lines: Iterable[OcrLine]) -> str:
    """Line boxes as text: rows of boxes whose vertical centres overlap, left to right; paragraphs at big gaps."""
    rows: list[list[OcrLine]] = []
    for line in sorted(lines, key=lambda l: (l.box[1] + l.box[3]) / 2):
        centre = (line.box[1] + line.box[3]) / 2
        if rows:
            last = rows[-1]
            top = min(l.box[1] for l in last)
            bottom = max(l.box[3] for l in last)
            if top <= centre <= bottom:
                last.append(line)
                continue
        rows.append([line])
    out: list[str] = []
    previous_bottom = None
    for row in rows:
        row.sort(key=lambda l: l.box[0])
        top = min(l.box[1] for l in row)
        height = max(l.box[3] - l.box[1] for l in row)
        if previous_bottom is not None:
            out.append("\n\n" if top - previous_bottom > height else "\n")
        out.append(_join_row([l.text for l in row]))
        previous_bottom = max(l.box[3] for l in row)
    return "".join(out)


def _join_row(texts: list[str]) -> str:
    """Boxes of one row: a space between them only where both sides are Latin letters or digits."""
    joined = texts[0]
    for text in texts[1:]:
        space = " " if joined[-1:].isascii() and joined[-1:].isalnum() and text[:1].isascii() and text[:1].isalnum() else ""
        joined += space + text
    return joined


def recognise_pages(images: Iterable, total: int, *, progress: PageProgress | None = None,
                    workers: int = OCR_WORKERS) -> list[OcrPage]:
    """OCR page images in a bounded pool, in page order; ``images`` is consumed lazily (at most 2 per worker
    are rendered ahead), and ``progress(done, total)`` is called as pages finish."""
    results: list[OcrPage | None] = [None] * total
    done = 0
    lock = threading.Lock()

    def finished(_: Future) -> None:
        nonlocal done
        with lock:
            done += 1
            current = done
        if progress:
            progress(current, total)

    if progress:
        progress(0, total)
    with ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="ocr") as pool:
        pending: list[tuple[int, Future]] = []
        for i, image in enumerate(images):
            future = pool.submit(recognise, image)
            future.add_done_callback(finished)
            pending.append((i, future))
            while sum(not f.done() for _, f in pending) >= 2 * max(1, workers):
                next(f for _, f in pending if not f.done()).result()  # wait, bounding what is rendered ahead
        for i, future in pending:
            results[i] = future.result()
    return [r for r in results if r is not None]


def open_image(data: bytes, name: str):
    """A PIL image from file bytes, refusing decompression bombs and unreadable files with a one-line reason."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data)) as probe:
            width, height = probe.size
        if width * height > MAX_IMAGE_PIXELS:
            raise DocumentError(f"{name} is {width}×{height} pixels, over the limit of {MAX_IMAGE_PIXELS // 1_000_000} MP",
                                hint="scale the image down (300 dpi is plenty for OCR) and index that")
        image = Image.open(io.BytesIO(data))
        image.load()
        return image.convert("RGB")
    except DocumentError:
        raise
    except UnidentifiedImageError as exc:
        raise DocumentError(f"{name} is not a readable image (unknown or damaged image data)",
                            hint="open it and save it again as .png or .jpg") from exc
    except (OSError, ValueError, Image.DecompressionBombError) as exc:
        raise DocumentError(f"{name} is not a readable image ({type(exc).__name__}: {str(exc)[:80]})",
                            hint="open it and save it again as .png or .jpg") from exc


def character_accuracy(recognised: str, truth: str) -> float:
    """1 − (edit distance / length of ``truth``), whitespace ignored: how well a page was read (tests, bench.ocr)."""
    a, b = "".join(recognised.split()), "".join(truth.split())
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        previous = current
    return 1 - previous[-1] / max(1, len(b))
