"""Translated messages of gettext catalogs: text of languages the shared data has little or none of.

Debian ships its programs' translations as compiled gettext catalogs (``.mo``), in hundreds of
languages that no data set here covers — Friulian, Limburgish, Aragonese, Crimean Tatar,
Maithili, Lingala, Walloon ... Language ID learns some of them *to refuse them*
(``scripts.REJECT_LANGUAGES``): a text in one of them is answered ``und``, not read as the nearest
served language (Friulian as Italian, Crimean Tatar as Turkish).

The build reads a pinned set of Debian 12 packages (``PACKAGES``: name, version, sha256), fetched
once from a Debian mirror into the cache and checked against their sha256. The benchmark measures
on the catalogs *installed* on the machine, minus every catalog (text domain) the build read and
every message it learnt: the split is by program.
"""

from __future__ import annotations

import functools
import gettext
import hashlib
import http.client
import io
import re
import tarfile
import urllib.error
import urllib.request
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from app.errors import AppError
from app.langid.ngram import normalize
from app.langid.texts import LabelledText
from corpora.languages import UnknownLanguage, normalize_code
from trainer.adapters import sha256_of

MIRRORS = ("https://deb.debian.org/debian", "http://deb.debian.org/debian")
SOURCE = "debian-catalogs"
# A message counts when it has this many letters once format directives and markup are gone.
MIN_LETTERS = 10
# Format directives, markup, URLs, command-line options, keyboard accelerators, escapes.
_NOISE = [re.compile(p) for p in (
    r"%\d*\$?[-#0 +']*\d*(?:\.\d+)?[hlLqjzt]*[a-zA-Z%]", r"\{[^}]*\}", r"<[^>]+>", r"https?://\S+",
    r"(?<!\w)--?[A-Za-z][\w-]*", r"[_&](?=\w)", r"\\[nt]",
)]
_CATALOG_PATH = re.compile(r"^\.?/?usr/share/locale/([^/]+)/LC_MESSAGES/([^/]+)\.mo$")


class CatalogError(AppError, OSError):
    """The pinned Debian packages cannot be fetched or do not match their sha256."""


@dataclass(frozen=True)
class CatalogPackage:
    """One pinned Debian package whose ``usr/share/locale/*/LC_MESSAGES/*.mo`` are read."""

    name: str
    version: str
    path: str  # in the mirror's pool
    sha256: str

    @property
    def file(self) -> str:
        return self.path.rsplit("/", 1)[1]


# Debian 12 "bookworm", architecture-independent packages of desktop programs (MATE, Cinnamon,
# Sugar, Tux Paint ...) chosen for the unserved languages they are translated into, none of them
# installed on the machines the benchmark ran on, none a stable point update (those leave the
# mirror at the next one). 37 MB.
PACKAGES: tuple[CatalogPackage, ...] = tuple(CatalogPackage(*row) for row in (
    ("cinnamon-l10n", "5.6.1-2", "pool/main/c/cinnamon-translations/cinnamon-l10n_5.6.1-2_all.deb",
     "c03953148ebcac4b440c6cb397d5ee345760a9836ce433942dc80d2becc92d89"),
    ("eom-common", "1.26.0-2", "pool/main/e/eom/eom-common_1.26.0-2_all.deb",
     "ea5910386217e3e9e37275adda9ad6298e20ea5dad34464f9e0b413ab1b43208"),
    ("gnome-desktop3-data", "43.2-2", "pool/main/g/gnome-desktop/gnome-desktop3-data_43.2-2_all.deb",
     "526929af724a04e43b9d26d128a72e2eaa400285ea8a924240d4ca211b9432ad"),
    ("libgranite-7-common", "7.1.0-1", "pool/main/g/granite-7/libgranite-7-common_7.1.0-1_all.deb",
     "cc4c1112baca4ca3dc663d6fad0f374ceacc2b1f58e588eae6bf511e3c5d632e"),
    ("libsugarext-data", "0.120-1", "pool/main/s/sugar-toolkit-gtk3/libsugarext-data_0.120-1_all.deb",
     "2005353168ed0c1cba2405b6ea63578f62325f02cdfa968d3b5b752959c3689b"),
    ("lomiri-common", "0.1.2-3", "pool/main/l/lomiri/lomiri-common_0.1.2-3_all.deb",
     "b00a99b2c12eaa6e0057502bef7c35cbd03d8e9cd92dc79c9bc79004b8bfbfe2"),
    ("mate-applets-common", "1.26.1-1", "pool/main/m/mate-applets/mate-applets-common_1.26.1-1_all.deb",
     "073d4e6afbd92a5397c8710b6c3dbbdbbfe060c8c4c70d1573d14591ffe8b4ba"),
    ("mate-desktop-common", "1.26.0-2", "pool/main/m/mate-desktop/mate-desktop-common_1.26.0-2_all.deb",
     "0d4a53892bb50dd4c31151603ef064393799f1e604ab76352c65e4d3f8173c78"),
    ("mate-indicator-applet-common", "1.26.0-1",
     "pool/main/m/mate-indicator-applet/mate-indicator-applet-common_1.26.0-1_all.deb",
     "42334c8f090f48bad3b28adabe66f330154f47aaa016a31eeffa227db86ccebb"),
    ("mate-media-common", "1.26.0-2", "pool/main/m/mate-media/mate-media-common_1.26.0-2_all.deb",
     "ced0387e36f90561be2318738ec25b0b20d02c18145e0d24c74a9838e381be4e"),
    ("mate-menu", "22.04.2-1", "pool/main/m/mate-menu/mate-menu_22.04.2-1_all.deb",
     "5bb5af575c040790422437c0c826da444b1886b9ae97b6fe1f64babe9c271b36"),
    ("mate-menus", "1.26.0-3", "pool/main/m/mate-menus/mate-menus_1.26.0-3_all.deb",
     "273eb2b5c9684c1e345370e1f31eea3c8a52fa9347effe0c67e19506e6672c34"),
    ("mate-netbook-common", "1.26.0-1", "pool/main/m/mate-netbook/mate-netbook-common_1.26.0-1_all.deb",
     "7924dab15d9d160a18e49eba06172655ea4ca68818e4c2d4f56008a6e275fb4a"),
    ("mate-panel-common", "1.27.0-1", "pool/main/m/mate-panel/mate-panel-common_1.27.0-1_all.deb",
     "0c869919f5a7a89a49136a530ab6fb19139c0ea88fc6c4bf5d7d254f627b5c31"),
    ("mate-sensors-applet-common", "1.26.0-1",
     "pool/main/m/mate-sensors-applet/mate-sensors-applet-common_1.26.0-1_all.deb",
     "91bbce6528a82fbeae6a236b3ea24bbeb0fa391f662b62d89fc2b3cb9af3a66f"),
    ("mate-system-monitor-common", "1.26.0-1",
     "pool/main/m/mate-system-monitor/mate-system-monitor-common_1.26.0-1_all.deb",
     "2f1b5b803d6ac277d203f32cda032c8ab16ea1565290882d5e160624ef6a1e5e"),
    ("mate-terminal-common", "1.26.0-2", "pool/main/m/mate-terminal/mate-terminal-common_1.26.0-2_all.deb",
     "309f3be40749aae991b07f4413fb548296637a9cf57c385fe0100e305cfe3836"),
    ("mate-tweak", "22.10.0-2", "pool/main/m/mate-tweak/mate-tweak_22.10.0-2_all.deb",
     "786ad8682e44ba24593e7fd27b2b8b2a497d7d967699f1ab5745ec4c069354e5"),
    ("mate-user-share-common", "1.26.0-1", "pool/main/m/mate-user-share/mate-user-share-common_1.26.0-1_all.deb",
     "4566ea3c85e4ac0a5353426b9f9643578f50520b781c2fd3796ebe0b92622893"),
    ("mozo", "1.26.2-1", "pool/main/m/mozo/mozo_1.26.2-1_all.deb",
     "2a5f94bfe2880083d1ec5c8aa2e7ab2244fb508e4f180b43b78dc403bb0017f7"),
    ("nautilus-data", "43.2-1", "pool/main/n/nautilus/nautilus-data_43.2-1_all.deb",
     "2b0ba8ce95bbd9007ab4ff34070f67c2d41ca5c0b155bf8a12776f2ebb9b1481"),
    ("sugar-session", "0.120-1", "pool/main/s/sugar/sugar-session_0.120-1_all.deb",
     "61eed915a3a862b59e08642cc7eed420df767d75d6ced0ee924ec1002fe45cc4"),
    ("sugar-terminal-activity", "47-2",
     "pool/main/s/sugar-terminal-activity/sugar-terminal-activity_47-2_all.deb",
     "9b7fffac5d771eb987b8a891f84adfb8a1e83369ba218e4cfbd7894093adf9ad"),
    ("tuxpaint-data", "1:0.9.28-sdl2-1", "pool/main/t/tuxpaint/tuxpaint-data_0.9.28-sdl2-1_all.deb",
     "f5d0de8f9a70d2efc1241d19f26168cb8bf279f1b77abd3631e7a1a55c40e5e5"),
    ("vala-panel-common", "0.5.0-2", "pool/main/v/vala-panel/vala-panel-common_0.5.0-2_all.deb",
     "a3a4e274debf1c4b86458fc09f8cbf1948db1c575cb0bc2942ba1b2513360a51"),
))


def locale_language(locale: str) -> str | None:
    """Our code for a gettext locale (``"pt_BR"`` -> ``"pt"``, ``"sr@latin"`` -> ``"sr"``); ``None`` if unknown."""
    try:
        return normalize_code(re.split(r"[_@.]", locale)[0])
    except UnknownLanguage:
        return None


def clean_messages(catalog: bytes) -> list[str]:
    """The translated messages of one ``.mo`` file as plain text, each with ``MIN_LETTERS`` letters
    or more (untranslated ones, format directives, markup and accelerators left out); ``[]`` for a
    broken catalog."""
    try:
        table = gettext.GNUTranslations(io.BytesIO(catalog))._catalog  # the parsed message table
    except Exception:  # noqa: BLE001 - gettext raises many kinds on broken or non-UTF-8 catalogs
        return []
    messages = []
    for source, translation in table.items():
        if not isinstance(source, str) or not source or not isinstance(translation, str) or translation == source:
            continue
        for part in translation.split("\n\n"):
            for pattern in _NOISE:
                part = pattern.sub(" ", part)
            part = " ".join(part.split())
            if sum(char.isalpha() for char in part) >= MIN_LETTERS:
                messages.append(part)
    return messages


def installed_catalogs(root: Path) -> Iterator[tuple[str, str, bytes]]:
    """``(locale, domain, .mo bytes)`` for every catalog under ``root`` (``/usr/share/locale``)."""
    for path in sorted(root.glob("*/LC_MESSAGES/*.mo")):
        try:
            yield path.parent.parent.name, path.stem, path.read_bytes()
        except OSError:
            continue


def _ar_members(data: bytes) -> Iterator[tuple[str, bytes]]:
    """The members of a ``.deb`` (an ``ar`` archive): ``debian-binary``, ``control.tar.*``, ``data.tar.*``."""
    if not data.startswith(b"!<arch>\n"):
        raise CatalogError("not a Debian package (no ar header)")
    position = 8
    while position + 60 <= len(data):
        header = data[position : position + 60]
        try:
            if header[58:60] != b"`\n":
                raise ValueError("no end-of-header mark")
            name, size = header[:16].decode("ascii").strip().rstrip("/"), int(header[48:58])
        except (ValueError, UnicodeDecodeError) as exc:
            raise CatalogError(f"a damaged Debian package (ar header at byte {position}: {exc})") from exc
        position += 60
        if position + size > len(data):
            raise CatalogError(f"a truncated Debian package ({name} needs {size} bytes)")
        yield name, data[position : position + size]
        position += size + size % 2


def package_catalogs(deb: bytes) -> Iterator[tuple[str, str, bytes]]:
    """``(locale, domain, .mo bytes)`` for every catalog a ``.deb`` installs, in archive order."""
    for name, blob in _ar_members(deb):
        if not name.startswith("data.tar"):
            continue
        with tarfile.open(fileobj=io.BytesIO(blob)) as tar:  # xz, gzip or bzip2: tarfile tells
            for member in tar:
                found = _CATALOG_PATH.match(member.name)
                if found and member.isfile():
                    yield found.group(1), found.group(2), tar.extractfile(member).read()


def fetch(cache: Path, packages: Sequence[CatalogPackage] = PACKAGES) -> list[Path]:
    """The pinned packages' files in ``cache/debian-catalogs``, downloaded once and checked.

    Raises:
        CatalogError: no mirror answered, or a file does not match its sha256.
    """
    folder = cache / SOURCE
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for package in packages:
        path = folder / package.file
        if not path.is_file() or sha256_of(path) != package.sha256:
            data, errors = None, []
            for mirror in MIRRORS:
                try:
                    with urllib.request.urlopen(f"{mirror}/{package.path}", timeout=60) as response:
                        body = response.read()
                except (OSError, http.client.HTTPException) as exc:  # URLError is an OSError
                    errors.append(f"{mirror}: {exc}")
                    continue
                if hashlib.sha256(body).hexdigest() == package.sha256:
                    data = body
                    break
                errors.append(f"{mirror}: the file does not match its pinned sha256")
            if data is None:
                raise CatalogError(
                    f"cannot download {package.name} {package.version} ({'; '.join(errors)}); language ID is built "
                    f"from Debian's translation catalogs too: put {package.file} into {folder} "
                    f"(snapshot.debian.org keeps every version)"
                )
            tmp = path.with_suffix(".part")
            tmp.write_bytes(data)
            tmp.replace(path)
        paths.append(path)
    return paths


@functools.cache
def _messages_of(path: Path, sha256: str) -> tuple[tuple[str, str, tuple[str, ...]], ...]:
    """``(locale, domain, cleaned messages)`` of one fetched package, read once per process (the build
    and the benchmarks ask for its training text and for what to leave out of the test); ``sha256``
    keys the cache to the file's content."""
    return tuple(
        (locale, domain, tuple(clean_messages(catalog))) for locale, domain, catalog in package_catalogs(path.read_bytes())
    )


def catalog_texts(
    cache: Path, languages: Iterable[str], packages: Sequence[CatalogPackage] = PACKAGES
) -> Iterator[LabelledText]:
    """Every distinct message of the pinned packages in ``languages``, as training text.

    One document per package and text domain (``"split:train:mate-panel/mate-panel"``): all of it
    trains, since the test is the catalogs of other programs (``bench/langid.py``). A message
    several programs share is read once per language.
    """
    wanted = set(languages)
    seen: dict[str, set[str]] = defaultdict(set)
    for package, path in zip(packages, fetch(cache, packages)):
        for locale, domain, messages in _messages_of(path, package.sha256):
            lang = locale_language(locale)
            if lang not in wanted or "@" in locale:
                continue
            for message in messages:
                if message not in seen[lang]:
                    seen[lang].add(message)
                    yield LabelledText(lang, SOURCE, f"split:train:{package.name}/{domain}", "sentence", message)


def learnt_catalogs(
    cache: Path, packages: Sequence[CatalogPackage] = PACKAGES
) -> tuple[set[str], set[tuple[str, str]]]:
    """What the build reads: the text domains of the pinned packages, and ``(language, message)`` pairs,
    the message as the classifier sees it (``ngram.normalize``: case, accents, punctuation folded) and the
    language as training merges it (``fur_IT`` and ``fur`` are one)."""
    domains, messages = set(), set()
    for package, path in zip(packages, fetch(cache, packages)):
        for locale, domain, cleaned in _messages_of(path, package.sha256):
            domains.add(domain)
            lang = locale_language(locale) or locale
            messages.update((lang, normalize(message)) for message in cleaned)
    return domains, messages


def unlearnt_texts(root: Path, learnt: tuple[set[str], set[tuple[str, str]]]) -> dict[str, list[str]]:
    """Cleaned messages per locale of the catalogs installed under ``root``, without the text domains
    and messages of ``learnt`` (``learnt_catalogs``): the benchmark's test text. Lists of country and
    language names (``iso_*`` domains) are left out too: they are not sentences."""
    domains, messages = learnt
    texts: dict[str, list[str]] = defaultdict(list)
    for locale, domain, catalog in installed_catalogs(root):
        if domain.startswith("iso_") or domain in domains:
            continue
        lang = locale_language(locale) or locale
        texts[locale].extend(m for m in clean_messages(catalog) if (lang, normalize(m)) not in messages)
    return texts
