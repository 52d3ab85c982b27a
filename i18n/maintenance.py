"""Keeping the catalogs in step with the code: extract, update, compile and check, per domain.

``update`` is what a developer runs after adding or changing a message: it is ``pybabel
extract`` (with ``babel.cfg``), ``pybabel update`` (``init`` for a new language) and ``pybabel
compile`` for every domain of ``i18n.domains``. ``problems`` is what the test suite and CI run:
every message the code holds must be translated, and not fuzzy, in Kazakh and Russian, and the
committed ``.mo`` files must be the compilation of the ``.po`` files.
"""

from __future__ import annotations

import contextlib
import io
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import CommandLineInterface, parse_mapping_cfg
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from i18n.domains import BABEL_CFG, DOMAINS, KEYWORDS, ROOT, Domain, mo_path, po_path, pot_path
from i18n.languages import LANGUAGES

# Every message must reach these readers; English is the message id itself.
REQUIRED_LANGUAGES = ("kk", "ru")


def _pybabel(*args: str) -> None:
    CommandLineInterface().run(["pybabel", "-q", *args])  # type: ignore[no-untyped-call]


def extract(domain: Domain) -> Path:
    target = pot_path(domain.name)
    target.parent.mkdir(parents=True, exist_ok=True)
    args = [
        "extract",
        "-F",
        str(BABEL_CFG.relative_to(ROOT)),
        "-o",
        str(target),
        "--add-comments=TRANSLATORS:",
        "--copyright-holder=ERAP",
        "--sort-by-file",
        "--project=ERAP",
        "--no-wrap",
    ]
    for keyword in KEYWORDS:
        args += ["-k", keyword]
    if domain.ignore:
        args += ["--ignore-dirs", " ".join(domain.ignore)]
    # From the repository root with relative paths, so that the catalogs' source references
    # read "central_ingest/console/..." on every machine.
    with contextlib.chdir(ROOT):
        _pybabel(*args, *domain.sources)
    return target


def update(domain: Domain) -> None:
    template = extract(domain)
    for language in LANGUAGES:
        target = po_path(domain.name, language)
        if target.exists():
            _pybabel(
                "update",
                "-i",
                str(template),
                "-o",
                str(target),
                "-l",
                language,
                "--no-fuzzy-matching",
                "--no-wrap",
                "--ignore-obsolete",
            )
        else:
            _pybabel("init", "-i", str(template), "-o", str(target), "-l", language, "--no-wrap")
        compile_catalog(domain.name, language)


def compiled(domain: str, language: str) -> bytes:
    with po_path(domain, language).open("rb") as source:
        catalog = read_po(source, locale=language, domain=domain)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    return buffer.getvalue()


def compile_catalog(domain: str, language: str) -> None:
    mo_path(domain, language).write_bytes(compiled(domain, language))


def extracted(domain: Domain) -> set[str]:
    """Every message id the domain's sources hold now (singular ids of plural messages)."""
    with BABEL_CFG.open(encoding="utf-8") as config:
        method_map, options_map = parse_mapping_cfg(config)  # type: ignore[no-untyped-call]
    keywords = dict(DEFAULT_KEYWORDS)
    for spec in KEYWORDS:
        name, _, positions = spec.partition(":")
        keywords[name] = tuple(int(p) for p in positions.split(",")) if positions else None
    found: set[str] = set()
    for source in domain.sources:
        for _file, _line, message, _comments, _context in extract_from_dir(
            ROOT / source,
            method_map,
            options_map,
            keywords=keywords,
            directory_filter=lambda path: Path(path).name not in (*domain.ignore, "__pycache__"),
        ):
            found.add(message[0] if isinstance(message, tuple) else message)
    return found


@dataclass(frozen=True)
class Problem:
    domain: str
    language: str
    what: str
    message: str

    def __str__(self) -> str:
        return f"{self.domain} [{self.language}] {self.what}: {self.message!r}"


def _catalog(domain: str, language: str) -> Catalog:
    with po_path(domain, language).open("rb") as source:
        return read_po(source, locale=language, domain=domain)


def problems() -> Iterator[Problem]:
    for domain in DOMAINS.values():
        wanted = extracted(domain)
        for language in LANGUAGES:
            path = po_path(domain.name, language)
            if not path.exists():
                yield Problem(domain.name, language, "no catalog", str(path))
                continue
            catalog = _catalog(domain.name, language)
            if mo_path(domain.name, language).read_bytes() != compiled(domain.name, language):
                yield Problem(
                    domain.name,
                    language,
                    "stale .mo (run python -m i18n update)",
                    str(mo_path(domain.name, language)),
                )
            ids = {m.id[0] if isinstance(m.id, tuple) else m.id for m in catalog if m.id}
            for message in sorted(wanted - ids):
                yield Problem(domain.name, language, "missing", message)
            if language not in REQUIRED_LANGUAGES:
                continue
            for entry in catalog:
                if not entry.id:
                    continue
                strings = entry.string if isinstance(entry.string, tuple) else (entry.string,)
                label = str(entry.id[0] if isinstance(entry.id, list | tuple) else entry.id)
                if entry.fuzzy:
                    yield Problem(domain.name, language, "fuzzy", label)
                elif not all(strings):
                    yield Problem(domain.name, language, "untranslated", label)
                for error in entry.check(catalog):
                    yield Problem(domain.name, language, f"invalid ({error})", label)
