"""Publishing an update on a Milvus server: generations (what yuanwen does) vs alias switching vs writing in place
without either, with a reader searching in a loop while it happens.

    python -m bench.milvus_publish --rows 100000 --start-server
    YUANWEN_MILVUS_URI=http://127.0.0.1:19530 python -m bench.milvus_publish --rows 100000

Each way publishes the same update of ``--update-share`` of the rows (as many removed as added) and then swaps
the reader's "version" (what ``CURRENT`` is in yuanwen: the set of keys the version's chunk text and BM25 know,
and for generations the generation to read):

- generations: ``MilvusStore.write_generation`` into the live collection, then the swap;
- alias: a new collection with every row of the new version (create, insert, index, load), ``alter_alias`` to
  it, then the swap, then the old collection dropped;
- in place: delete the removed rows and insert the added ones in the live collection, then the swap.

The reader takes the current version, searches with a changed row's vector (top 10, the default Bounded
consistency) and counts the rows it can see, in a loop from before the publish until two seconds after. A read
is *mixed* when a hit is a key its version does not hold (its text would be missing or another row's), *off*
when the row count is not its version's, an *error* when Milvus refused it. Synthetic vectors (as
bench/vectorstores.py).
"""

from __future__ import annotations

import argparse
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bench.milvus_server import configured_or_started
from bench.vectorstores import synthetic
from rag.store.milvus_store import ALIVE, DEFAULT_INDEX, IndexSpec, MilvusStore, _generation_filter, client

AFTER_S = 2.0  # the reader keeps reading this long after the swap


@dataclass(frozen=True)
class Version:
    keys: frozenset  # keys this version's docstore knows
    rows: int
    search: object  # (vector) -> hit keys
    count: object  # () -> visible rows


@dataclass
class Reads:
    total: int = 0
    mixed: int = 0
    off: int = 0
    errors: int = 0
    first_error: str = ""

    def line(self) -> str:
        return (f"{self.total} | {self.mixed} | {self.off} | {self.errors}"
                + (f" ({self.first_error[:80]})" if self.first_error else ""))


def read_loop(current: list, probes: np.ndarray, stop: threading.Event, reads: Reads) -> None:
    i = 0
    while not stop.is_set():
        version: Version = current[0]
        i += 1
        try:
            hits = version.search(probes[i % len(probes)])
            seen = version.count()
        except Exception as exc:  # noqa: BLE001 - counted: a reader would have got an error
            reads.errors += 1
            reads.first_error = reads.first_error or f"{type(exc).__name__}: {exc}"
            time.sleep(0.01)
            continue
        reads.total += 1
        reads.mixed += any(k not in version.keys for k in hits)
        reads.off += seen != version.rows


def generation_version(store: MilvusStore, keys) -> Version:
    c = client(store.uri)

    def count() -> int:
        return int(c.query(store.collection, filter=_generation_filter(store.generation),
                           output_fields=["count(*)"])[0]["count(*)"])

    return Version(frozenset(keys), len(keys), lambda v: [k for k, _ in store.search(v, 10)], count)


def plain_version(uri: str, name: str, keys) -> Version:
    """A reader of a collection (or alias) holding exactly one version's rows."""
    c = client(uri)

    def search(v):
        hits = c.search(name, data=[v.tolist()], limit=10, output_fields=["id"],
                        search_params=IndexSpec.parse(DEFAULT_INDEX).search_params(10))[0]
        return [int(h["id"]) for h in hits]

    def count() -> int:
        return int(c.query(name, filter="", output_fields=["count(*)"])[0]["count(*)"])

    return Version(frozenset(keys), len(keys), search, count)


def run(label: str, current: list, probes: np.ndarray, publish) -> tuple[float, Reads]:
    """Publish while a reader loops; (seconds the publish took, what the reader saw)."""
    reads, stop = Reads(), threading.Event()
    reader = threading.Thread(target=read_loop, args=(current, probes, stop, reads), daemon=True)
    reader.start()
    time.sleep(0.5)
    t = time.perf_counter()
    publish()
    seconds = time.perf_counter() - t
    time.sleep(AFTER_S)
    stop.set()
    reader.join()
    print(f"| {label} | {seconds:.2f} | {reads.line()} |", flush=True)
    return seconds, reads


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--dim", type=int, default=384)
    ap.add_argument("--update-share", type=float, default=0.01)
    ap.add_argument("--start-server", action="store_true", help="run Milvus on a temporary local server")
    args = ap.parse_args()
    with configured_or_started(args.start_server, Path(tempfile.mkdtemp())) as (uri, _):
        if not uri:
            raise SystemExit("needs a Milvus server: --start-server or $YUANWEN_MILVUS_URI")
        c = client(uri)
        data = synthetic(args.rows, args.dim)
        n = max(1, int(args.rows * args.update_share))
        rng = np.random.default_rng(2)
        removed = np.sort(rng.choice(args.rows, n, replace=False)).astype(np.int64)
        added_keys = np.arange(args.rows, args.rows + n, dtype=np.int64)
        added = synthetic(n, args.dim, seed=2)
        old_keys = np.arange(args.rows, dtype=np.int64)
        new_keys = np.concatenate([np.setdiff1d(old_keys, removed), added_keys])
        new_vectors = np.concatenate([np.delete(data, removed, axis=0), added])
        probes = np.concatenate([added, data[removed]])  # the rows that change: where a mix would show
        print(f"{args.rows} synthetic {args.dim}-d rows on a Milvus 2.3.5 server, {n} removed and {n} added; "
              f"a reader searching (top 10) and counting in a loop")
        print("| publish by | publish s | reads | mixed | off count | errors |")
        print("|---|---|---|---|---|---|")

        # Generations: the product's in-place write into the live collection.
        t = time.perf_counter()
        store = MilvusStore.build(data, uri=uri, collection="pub_generations")
        print(f"(generations: first build with settle {time.perf_counter() - t:.1f} s)", flush=True)
        current = [generation_version(store, old_keys)]

        def publish_generation():
            new = store.write_generation(2, added_keys, added, removed, len(new_keys))
            current[0] = generation_version(new, new_keys)

        run("generations (write_generation, then CURRENT)", current, probes, publish_generation)
        c.drop_collection("pub_generations")

        # Aliases: a rebuilt collection behind an alias.
        t = time.perf_counter()
        MilvusStore.build(data, uri=uri, collection="pub_alias_1")
        c.create_alias("pub_alias_1", "pub_live")
        print(f"(alias: first build with settle {time.perf_counter() - t:.1f} s)", flush=True)
        current = [plain_version(uri, "pub_live", old_keys)]

        def publish_alias():
            fresh = MilvusStore.create(uri=uri, collection="pub_alias_2", dim=args.dim)
            fresh.write_generation(1, new_keys, new_vectors, np.zeros(0, dtype=np.int64), len(new_keys))
            c.alter_alias("pub_alias_2", "pub_live")
            current[0] = plain_version(uri, "pub_live", new_keys)
            c.drop_collection("pub_alias_1")

        run("alias (new collection, alter_alias, then CURRENT)", current, probes, publish_alias)
        c.drop_alias("pub_live")
        c.drop_collection("pub_alias_2")

        # Neither: delete and insert in the live collection.
        MilvusStore.build(data, uri=uri, collection="pub_in_place")
        current = [plain_version(uri, "pub_in_place", old_keys)]

        def publish_in_place():
            c.delete("pub_in_place", ids=removed.tolist())
            c.insert("pub_in_place", [{"id": int(k), "vector": v, "gen_from": 1, "gen_to": ALIVE}
                                      for k, v in zip(added_keys.tolist(), added)])
            current[0] = plain_version(uri, "pub_in_place", new_keys)

        run("in place without generations (delete + insert, then CURRENT)", current, probes, publish_in_place)


if __name__ == "__main__":
    main()
