"""Ingest a folder of good and bad files the way users bring them, and account for every file.

    python -m bench.ingest_mixed            # the real CLI (`python -m rag index`) with the default embedder
    python -m bench.ingest_mixed --fake     # in-process, with the tests' fake embedder (no model, ~1 s)

The folder is built in a temp dir: good .txt/.md/.html/.pdf/.docx in UTF-8 (± BOM), GBK/GB18030, Big5 and UTF-16,
tables in PDF, Word and HTML, an Excel workbook, a PowerPoint deck, a scanned PDF and a page photo (both OCRed),
next to binary, empty, blank, over-size, unreadable, corrupt and blank-page PDF, password-protected PDF, corrupt
Word/Excel/PowerPoint, zip-bomb Word/Excel/PowerPoint, a pixel-bomb image and unsupported files. It prints how many files were indexed, skipped (with each reason) and failed — failed meaning
lost (neither indexed nor reported) or stopped by an unexpected error — and checks that each good file's text came
through its encoding intact. docs/robustness.md holds a run's output.
"""

from __future__ import annotations

import argparse
import codecs
import io
import json
import os
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

from rag.store.index import Index

REPO = Path(__file__).resolve().parents[1]
MAX_MB = 1.0

# source -> (bytes, a phrase the indexed text must hold)
GOOD_TEXTS = {
    "txt/utf8.txt": ("浈江区人才公寓\n\n浈江区投资200多万元建设人才公寓。", "utf-8", b""),
    "txt/utf8-bom.txt": ("乳源县基层治理\n\n乳源县115个村级党组织参与双向承诺。", "utf-8", codecs.BOM_UTF8),
    "txt/gbk.txt": ("翁源县兰花产业\n\n翁源县兰花年产值达到15亿元。", "gbk", b""),
    "txt/gb18030-rare.txt": ("浈江区新韶镇\n\n浈江区新韶镇水口村建成碧道。", "gb18030", b""),
    "txt/big5.txt": ("臺灣鄉村振興\n\n綠色驅動產業發展，鄉村經濟新跨越。", "big5", b""),
    "txt/utf16-le-bom.txt": ("肇庆乡村振兴\n\n肇庆建成2629套乡镇干部周转房。", "utf-16-le", codecs.BOM_UTF16_LE),
    "txt/utf16-be.txt": ("贺江碧道\n\n贺江碧道画廊接待游客76.1万人次。", "utf-16-be", codecs.BOM_UTF16_BE),
    "md/gbk.md": ("# 韶关丹霞山\n\n丹霞山2010年列入**世界自然遗产**名录。", "gbk", b""),
    "md/utf16.md": ("# 南雄\n\n南雄市种植银杏树超过10万株。", "utf-16-le", codecs.BOM_UTF16_LE),
    "html/gb18030.html": ('<html><head><meta charset="gb18030"><title>新丰</title></head><body><nav>首页</nav>'
                          "<h1>新丰县</h1><p>新丰县佛手瓜种植面积达到1.2万亩。</p></body></html>", "gb18030", b""),
    "html/big5.html": ('<html><head><meta charset="big5"></head><body><h1>臺北</h1>'
                       "<p>臺北市圖書館藏書超過八百萬冊。</p></body></html>", "big5", b""),
}
PHRASES = {
    "txt/utf8.txt": "投资200多万元", "txt/utf8-bom.txt": "115个村级党组织", "txt/gbk.txt": "年产值达到15亿元",
    "txt/gb18030-rare.txt": "浈江区新韶镇水口村", "txt/big5.txt": "鄉村經濟新跨越", "txt/utf16-le-bom.txt": "2629套",
    "txt/utf16-be.txt": "76.1万人次", "md/gbk.md": "世界自然遗产名录", "md/utf16.md": "银杏树超过10万株",
    "html/gb18030.html": "佛手瓜种植面积", "html/big5.html": "藏書超過八百萬冊",
    "pdf/report.pdf": "接待游客312万人次", "docx/notes.docx": "兰花种植面积超过8000亩",
    "pdf/table.pdf": "地区：乳源县，2021年：16842元，2022年：18562元", "pdf/scan.pdf": "旅游总收入38.6亿元",
    "docx/table.docx": "地区：新丰县，2021年：16511元", "xlsx/income.xlsx": "地区：翁源县，类别：城镇",
    "pptx/report.pptx": "备注：全县新增造林面积3.2万亩", "image/brief.png": "佛手瓜种植面积",
    "html/table.html": "2022年：18562元，增长：10.2%",
}


def build_folder(root: Path) -> tuple[dict[str, str], list[str]]:
    """Write the mixed folder; returns ({good source: phrase}, [bad sources])."""
    from bench.sample_files import (DOCX_PARAGRAPHS, DOCX_TABLE, PDF_PAGES, SCAN_PAGES, TABLE_CAPTION, TABLE_ROWS,
                                    corrupt_copy, make_docx, make_encrypted_pdf, make_image_pdf, make_pdf, make_pptx,
                                    make_scanned_pdf, make_table_docx, make_table_pdf, make_xlsx, office_bomb,
                                    render_page)

    files: dict[str, bytes] = {s: bom + text.encode(enc) for s, (text, enc, bom) in GOOD_TEXTS.items()}
    files["pdf/report.pdf"] = make_pdf(PDF_PAGES, title="乳源县文化旅游")
    files["docx/notes.docx"] = make_docx(DOCX_PARAGRAPHS, title="翁源兰花产业", table=DOCX_TABLE)
    files["pdf/table.pdf"] = make_table_pdf()
    files["pdf/scan.pdf"] = make_image_pdf(SCAN_PAGES)
    files["docx/table.docx"] = make_table_docx()
    files["xlsx/income.xlsx"] = make_xlsx()
    files["pptx/report.pptx"] = make_pptx()
    brief = io.BytesIO()
    render_page(["新丰县佛手瓜产业简报", "全县佛手瓜种植面积达到1.2万亩。"]).save(brief, "PNG")
    files["image/brief.png"] = brief.getvalue()
    html_rows = "".join("<tr>" + "".join(f"<td>{v}</td>" for v in row) + "</tr>" for row in TABLE_ROWS)
    files["html/table.html"] = (f"<html><body><h1>统计公报</h1><table><caption>{TABLE_CAPTION}</caption>{html_rows}"
                                "</table></body></html>").encode("utf-8")
    bomb = io.BytesIO()
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("word/document.xml", b"\0" * (100 * 1024 * 1024))
    bad = {
        "bad/binary.txt": os.urandom(4096),
        "bad/elf.md": b"\x7fELF\x02\x01\x01" + bytes(range(256)) * 8,
        "bad/empty.txt": b"",
        "bad/blank.html": b"<html><body>\n  \n</body></html>",
        "bad/huge.txt": "很大的日志文件。\n".encode("utf-8") * 150_000,  # 3.6 MB > --max-mb 1
        "bad/broken.pdf": corrupt_copy(make_pdf(PDF_PAGES)),
        "bad/truncated.pdf": make_pdf(PDF_PAGES)[:300],
        "bad/scan.pdf": make_scanned_pdf(),
        "bad/broken.docx": corrupt_copy(make_docx(DOCX_PARAGRAPHS)),
        "bad/bomb.docx": bomb.getvalue(),
        "bad/bomb.xlsx": office_bomb("xl/worksheets/sheet1.xml"),
        "bad/bomb.pptx": office_bomb("ppt/slides/slide1.xml"),
        "bad/broken.xlsx": corrupt_copy(make_xlsx()),
        "bad/broken.pptx": corrupt_copy(make_pptx()),
        "bad/secret.pdf": make_encrypted_pdf("秘密内容在此。", password="s3cret"),
        "bad/huge-scan.png": _pixel_bomb(),
        "bad/old.xls": b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(512),
        "bad/old.doc": b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(512),
        "bad/photo.jpg": b"\xff\xd8\xff\xe0" + os.urandom(1024),
        "bad/sheet.xlsx": b"PK\x03\x04" + os.urandom(256),
        "bad/deck.pptx": b"PK\x03\x04" + os.urandom(256),
        "bad/README": b"no extension",
        "bad/locked.txt": "锁住的文件。".encode("utf-8"),
    }
    files.update(bad)
    for source, data in files.items():
        path = root / source
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    (root / "bad/locked.txt").chmod(0)
    (root / ".git").mkdir()
    (root / ".git/config").write_text("[core]\n")  # hidden: tool state, left out silently
    return {s: PHRASES[s] for s in files if s in PHRASES}, list(bad)


def _pixel_bomb() -> bytes:
    """A PNG of 12000 × 6000 white pixels: a few KB on disk, 72 MP (216 MB as RGB) when decoded."""
    from PIL import Image

    out = io.BytesIO()
    Image.new("1", (12000, 6000), 1).save(out, "PNG")
    return out.getvalue()


def run_cli(folder: Path, index_dir: Path) -> tuple[int, dict, str]:
    proc = subprocess.run([sys.executable, "-m", "rag", "index", str(folder), "--index", str(index_dir),
                           "--max-mb", str(MAX_MB), "--json"], cwd=REPO, capture_output=True, text=True)
    return proc.returncode, json.loads(proc.stdout) if proc.returncode == 0 else {}, proc.stderr


def run_fake(folder: Path, index_dir: Path) -> tuple[int, dict, str]:
    from rag.ingest.indexing import update_index
    from embeddings.hashing import HashingEmbedder

    report = update_index([folder], index_dir, embedder=HashingEmbedder(), max_bytes=int(MAX_MB * 1024 * 1024))
    return 0, report.to_json(), ""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--fake", action="store_true", help="in-process with the fake embedder (no model)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="yuanwen-mixed-") as tmp:
        folder, index_dir = Path(tmp) / "folder", Path(tmp) / "index"
        good, bad = build_folder(folder)
        all_files = sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*")
                           if p.is_file() and not p.relative_to(folder).as_posix().startswith("."))
        t0 = time.perf_counter()
        status, report, stderr = (run_fake if args.fake else run_cli)(folder, index_dir)
        seconds = time.perf_counter() - t0
        (folder / "bad/locked.txt").chmod(0o644)
        if status != 0:
            print(f"indexer exited {status}:\n{stderr}")
            return 1
        documents = {d.source: d for d in Index.open(index_dir).documents()}
        skipped = dict(report["skipped"])
        lost = [s for s in all_files if s not in documents and s not in skipped]
        unexpected = [s for s, reason in skipped.items() if "unexpected error" in reason]
        garbled = [s for s, phrase in good.items() if s in documents and phrase not in documents[s].text]
        missing_good = [s for s in good if s not in documents]

        print(f"mixed folder: {len(all_files)} files ({len(good)} good, {len(bad)} bad; hidden files left out), "
              f"limit --max-mb {MAX_MB:g}, {'fake embedder, in-process' if args.fake else 'python -m rag index'} "
              f"(exit {status}, {seconds:.1f} s)")
        print(f"indexed: {len(documents)} documents, {report['chunks']} chunks")
        for source in sorted(documents):
            d = documents[source]
            check = "text ok" if source not in garbled else "TEXT GARBLED"
            print(f"  {source:24s} {d.title[:24]:24s} {len(d.text):5d} chars  {check}")
        print(f"skipped: {len(skipped)}")
        for source, reason in sorted(skipped.items()):
            print(f"  {source:24s} {reason}")
        print(f"failed: {len(lost) + len(unexpected)} (lost: {lost or 'none'}; unexpected errors: {unexpected or 'none'})")
        expected_skips = set(bad)
        if os.geteuid() == 0:  # chmod 000 does not stop root: the "unreadable" file is read like any other
            expected_skips.discard("bad/locked.txt")
            print("note: running as root, so bad/locked.txt (chmod 000) was readable; as a user it is skipped with "
                  "'Cannot read …: Permission denied' (tests/test_robustness.py checks both)")
        ok = not lost and not unexpected and not garbled and not missing_good and set(skipped) == expected_skips
        print("nothing lost: every file indexed or skipped with a reason; every good file's text intact"
              if ok else f"PROBLEM: garbled {garbled}, good files not indexed {missing_good}, "
                         f"bad files indexed {sorted(expected_skips - set(skipped))}")
        return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
