"""OCR speed per page and character accuracy on rendered Chinese pages (the bundled RapidOCR model, CPU only).

    python -m bench.ocr [--pages 6] [--dpi 150]

Pages are made from the demo articles (`data/demo/`): 30 lines of 32 characters each, 14-point Noto CJK, rendered
at ``--dpi`` as an office scanner would, then read back through the same path a scanned PDF takes (render → OCR
pool → reading order). Reported side by side in one run: seconds per page with 1 worker and with the default pool
(:data:`rag.ingest.ocr.OCR_WORKERS`, one onnxruntime thread each), and the character accuracy (1 − edit distance /
length, whitespace ignored) against the text that was rendered. Run it under the shared heavy lock on a shared box.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
LINE_CHARS = 32
PAGE_LINES = 30


def page_texts(pages: int) -> list[list[str]]:
    text = "".join("".join(p.read_text(encoding="utf-8").split()) for p in sorted((REPO / "data" / "demo").glob("*.txt")))
    lines = [text[i:i + LINE_CHARS] for i in range(0, len(text), LINE_CHARS)]
    return [lines[i * PAGE_LINES:(i + 1) * PAGE_LINES] for i in range(pages) if lines[i * PAGE_LINES:(i + 1) * PAGE_LINES]]


def main(argv: list[str] | None = None) -> int:
    from rag.ingest.ocr import OCR_WORKERS, character_accuracy, recognise, recognise_pages
    from bench.sample_files import render_page

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pages", type=int, default=6)
    parser.add_argument("--dpi", type=int, default=150)
    args = parser.parse_args(argv)
    texts = page_texts(args.pages)
    images = [render_page(lines, dpi=args.dpi) for lines in texts]
    chars = sum(len("".join(lines)) for lines in texts)
    recognise(images[0])  # load the models once, outside the timings
    print(f"{len(images)} A4 pages at {args.dpi} dpi, {chars} characters ({PAGE_LINES} lines × {LINE_CHARS} per page)")
    print("| workers | seconds per page | pages per minute | character accuracy (min–mean) |")
    print("|---|---|---|---|")
    for workers in dict.fromkeys([1, OCR_WORKERS]):
        t0 = time.perf_counter()
        pages = recognise_pages(iter(images), len(images), workers=workers)
        seconds = time.perf_counter() - t0
        accuracy = [character_accuracy(page.text, "".join(lines)) for page, lines in zip(pages, texts)]
        print(f"| {workers} | {seconds / len(images):.2f} | {60 * len(images) / seconds:.1f} | "
              f"{min(accuracy):.3f}–{sum(accuracy) / len(accuracy):.3f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
