"""Questions about table cells, over statistics-bulletin tables in every format: answered, right, cited at the cell's row.

    python -m bench.tables                 # tables as "列名：值" rows (rag.text.tables), the default
    python -m bench.tables --compare       # …and side by side with the rows flattened to space-joined cells

Five tables of made-up county figures (seeded, statistics-bulletin style) are written as a PDF with a ruled table on
page 2, a Word table, two sheets of an Excel workbook, an HTML table and a table on slide 2 of a deck. Each question
asks for one cell ("2022年乳源县农村居民人均可支配收入是多少？"); a few ask for a county the tables do not hold.
The folder is indexed with the default embedder and answered by the extractive answerer (no LLM, so the figures
measure reading and citing, not a model). Counted per question: answered (not refused), right (the cell's value in
the answer), cited right (a citation whose text holds the value, in the table's file and at its page/sheet/slide).
``--compare`` runs the same folder again with every table row flattened to its cells joined by spaces (what yuanwen
did before), in the same process, one after the other.
"""

from __future__ import annotations

import argparse
import json
import random
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

COUNTIES = ["武江区", "浈江区", "曲江区", "乐昌市", "南雄市", "仁化县", "始兴县", "翁源县", "新丰县", "乳源县"]
MISSING = ["连州市", "阳山县", "英德市"]  # not in any table: these questions must be refused
YEARS = ["2020年", "2021年", "2022年"]


def _tables(seed: int = 19) -> list[dict]:
    """The five tables: caption, header, rows, the question template, its file and the location a citation needs."""
    rng = random.Random(seed)

    def series(low: int, high: int, step: float, digits: int = 0) -> list[str]:
        value = rng.uniform(low, high)
        out = []
        for _ in YEARS:
            out.append(f"{value:.{digits}f}")
            value *= 1 + rng.uniform(0.02, step)
        return out

    return [
        {"file": "公报.pdf", "where": "p. 2", "caption": "表1 各县（市、区）农村居民人均可支配收入（单位：元）",
         "header": ["地区", *YEARS], "rows": [[c, *series(15000, 21000, 0.09)] for c in COUNTIES],
         "ask": "{year}{county}农村居民人均可支配收入是多少？"},
        {"file": "城镇收入.docx", "where": "", "caption": "表2 各县（市、区）城镇居民人均可支配收入（单位：元）",
         "header": ["地区", *YEARS], "rows": [[c, *series(28000, 40000, 0.06)] for c in COUNTIES],
         "ask": "{year}{county}城镇居民人均可支配收入是多少？"},
        {"file": "农业.xlsx", "where": "sheet 粮食产量", "sheet": "粮食产量",
         "caption": "表3 各县（市、区）粮食产量（单位：万吨）",
         "header": ["地区", *YEARS], "rows": [[c, *series(3, 15, 0.05, 2)] for c in COUNTIES],
         "ask": "{year}{county}粮食产量是多少万吨？"},
        {"file": "工业.html", "where": "", "caption": "表4 各县（市、区）规模以上工业增加值（单位：亿元）",
         "header": ["地区", *YEARS], "rows": [[c, *series(20, 160, 0.1, 1)] for c in COUNTIES],
         "ask": "{year}{county}规模以上工业增加值是多少亿元？"},
        {"file": "旅游汇报.pptx", "where": "slide 2", "caption": "各县（市、区）接待游客人次（单位：万人次）",
         "header": ["地区", *YEARS], "rows": [[c, *series(80, 600, 0.2, 1)] for c in COUNTIES],
         "ask": "{year}{county}接待游客多少万人次？"},
    ]


def questions(tables: list[dict], per_table: int = 8, seed: int = 7) -> list[dict]:
    rng = random.Random(seed)
    out = []
    for t in tables:
        cells = [(row, y) for row in t["rows"] for y in range(len(YEARS))]
        for row, y in rng.sample(cells, per_table):
            out.append({"question": t["ask"].format(year=YEARS[y], county=row[0]), "value": row[1 + y],
                        "file": t["file"], "where": t["where"]})
        county = rng.choice(MISSING)
        out.append({"question": t["ask"].format(year=rng.choice(YEARS), county=county), "value": None,
                    "file": t["file"], "where": t["where"]})
    return out


def build_folder(folder: Path, tables: list[dict]) -> None:
    from bench.sample_files import make_table_pdf

    by_file = {t["file"]: t for t in tables}
    t = by_file["公报.pdf"]
    (folder / t["file"]).write_bytes(make_table_pdf(t["caption"], [t["header"], *t["rows"]],
                                                    intro="韶关市2022年国民经济和社会发展统计公报\n一、综合",
                                                    after="注：本表数据来源于住户收支与生活状况调查。"))
    _write_docx(folder / "城镇收入.docx", by_file["城镇收入.docx"])
    _write_xlsx(folder / "农业.xlsx", by_file["农业.xlsx"])
    _write_html(folder / "工业.html", by_file["工业.html"])
    _write_pptx(folder / "旅游汇报.pptx", by_file["旅游汇报.pptx"])


def _write_docx(path: Path, t: dict) -> None:
    import docx

    document = docx.Document()
    document.add_heading("韶关市城镇居民收入情况", level=1)
    document.add_paragraph("全市城镇居民收入稳步增长，各县（市、区）情况如下。")
    document.add_paragraph(t["caption"])
    rows = [t["header"], *t["rows"]]
    grid = document.add_table(rows=len(rows), cols=len(rows[0]))
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            grid.cell(r, c).text = value
    document.save(path)


def _write_xlsx(path: Path, t: dict) -> None:
    import xlsxwriter

    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet(t["sheet"])
    sheet.merge_range(0, 0, 0, len(t["header"]) - 1, t["caption"])
    sheet.write_row(1, 0, t["header"])
    for r, row in enumerate(t["rows"], start=2):
        sheet.write(r, 0, row[0])
        for c, value in enumerate(row[1:], start=1):
            sheet.write_number(r, c, float(value))
    notes = book.add_worksheet("说明")
    notes.write(0, 0, "粮食产量数据来源于农业农村部门统计。")
    book.close()


def _write_html(path: Path, t: dict) -> None:
    import html

    cells = "".join(f"<th>{html.escape(h)}</th>" for h in t["header"])
    body = "".join("<tr>" + "".join(f"<td>{html.escape(v)}</td>" for v in row) + "</tr>" for row in t["rows"])
    path.write_text(f"<html><head><title>工业经济</title></head><body><h1>韶关市工业经济运行情况</h1>"
                    f"<p>全市规模以上工业增加值保持增长。</p><table><caption>{html.escape(t['caption'])}</caption>"
                    f"<tr>{cells}</tr>{body}</table></body></html>", encoding="utf-8")


def _write_pptx(path: Path, t: dict) -> None:
    from pptx import Presentation
    from pptx.util import Inches

    deck = Presentation()
    first = deck.slides.add_slide(deck.slide_layouts[0])
    first.shapes.title.text = "韶关市文化旅游工作汇报"
    first.placeholders[1].text = "市文化广电旅游体育局"
    second = deck.slides.add_slide(deck.slide_layouts[5])
    second.shapes.title.text = t["caption"]
    rows = [t["header"], *t["rows"]]
    table = second.shapes.add_table(len(rows), len(rows[0]), Inches(0.5), Inches(1.5), Inches(9), Inches(5)).table
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            table.cell(r, c).text = value
    deck.save(path)


@contextmanager
def flattened_tables():
    """Table rows as their cells joined by spaces (yuanwen before rag.text.tables), captions kept as a line."""
    import rag.text.tables as tables

    original = tables.table_blocks

    def flat(rows, caption=""):
        grid = [[tables.cell_text(v) for v in row] for row in rows]
        lines = [" ".join(c for c in row if c) for row in grid if any(row)]
        return ["\n".join(([caption] if caption else []) + lines)] if lines else []

    tables.table_blocks = flat
    for module in ("rag.ingest.pdfpages", "rag.ingest.spreadsheets", "rag.ingest.slides"):
        __import__(module)
        import sys

        setattr(sys.modules[module], "table_blocks", flat)
    try:
        yield
    finally:
        tables.table_blocks = original
        import sys

        for module in ("rag.ingest.pdfpages", "rag.ingest.spreadsheets", "rag.ingest.slides"):
            setattr(sys.modules[module], "table_blocks", original)


def run(folder: Path, qs: list[dict], label: str) -> dict:
    from rag.ingest.indexing import update_index
    from rag.answer.pipeline import Pipeline
    from rag.app.builder import make_retriever
    from rag.app.config import Settings
    from rag.text.tables import cell_text

    index = Path(tempfile.mkdtemp(prefix=f"tables-{label}-")) / "index"
    t0 = time.perf_counter()
    report = update_index([folder], index)
    seconds = time.perf_counter() - t0
    pipe = Pipeline(make_retriever(Settings(index=str(index))), None, k=5)
    counts = {"answerable": 0, "answered": 0, "right": 0, "cited_right": 0, "unanswerable": 0, "refused": 0}
    misses = []
    for q in qs:
        answer = pipe.ask(q["question"])
        if q["value"] is None:
            counts["unanswerable"] += 1
            counts["refused"] += answer.refused
            if not answer.refused:
                misses.append({"question": q["question"], "answer": answer.answer})
            continue
        counts["answerable"] += 1
        values = {q["value"], cell_text(float(q["value"]))}  # Excel keeps 3.20 as the number 3.2
        right = not answer.refused and any(v in answer.answer for v in values)
        cited = any(any(v in c.text for v in values) and c.source == q["file"] and c.location == q["where"]
                    for c in answer.citations)
        counts["answered"] += not answer.refused
        counts["right"] += right
        counts["cited_right"] += right and cited
        if not (right and cited):
            misses.append({"question": q["question"], "want": q["value"], "answer": answer.answer,
                           "cited": [f"{c.source} {c.location}".strip() for c in answer.citations]})
    return {"label": label, "chunks": report.chunks, "index_seconds": round(seconds, 1), **counts, "misses": misses}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--compare", action="store_true", help="also run with rows flattened to space-joined cells")
    parser.add_argument("--json", action="store_true", help="print the results as JSON (misses included)")
    args = parser.parse_args(argv)
    tables = _tables()
    qs = questions(tables)
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "bulletins"
        folder.mkdir()
        build_folder(folder, tables)
        results.append(run(folder, qs, "列名：值 rows"))
        if args.compare:
            with flattened_tables():
                results.append(run(folder, qs, "flattened cells"))
    if args.json:
        print(json.dumps(results, ensure_ascii=False, indent=2))
        return 0
    n = results[0]["answerable"]
    print(f"{len(qs)} questions: {n} about table cells in 5 files, {results[0]['unanswerable']} about counties "
          "no table holds")
    print("| tables as | chunks | answered | right | cited at the right file and page/sheet/slide | unanswerable refused |")
    print("|---|---|---|---|---|---|")
    for r in results:
        print(f"| {r['label']} | {r['chunks']} | {r['answered']}/{n} | {r['right']}/{n} | {r['cited_right']}/{n} | "
              f"{r['refused']}/{r['unanswerable']} |")
    for r in results:
        for miss in r["misses"][:8]:
            print(f"  [{r['label']}] {json.dumps(miss, ensure_ascii=False)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
