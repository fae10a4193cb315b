"""Legal sets: the Swiss and Norwegian constitutions (article-aligned) and MILPaC (Indian legal QA and acts).

``constitutions_article_aligned.json``: ``d[name]["articles"][lang][i]`` is article
``d[name]["article_ids"][i]``. Swiss texts keep their footnote lines; we keep them too (they are part
of what a user's PDF of the constitution would hold).

``milpac_aligned.json``: ``d["IP"|"CCI_FAQ"]["items"] = [{id, question: {lang: text}, answer: {lang: text}}]``
and ``d["Acts"]["items"] = [{id, text: {lang: text}}]``.
"""

from __future__ import annotations

from pathlib import Path

from corpora.files import read_json, require
from corpora.parallel import ParallelUnit
from corpora.records import Pair

CONSTITUTIONS_FILE = "constitutions_article_aligned.json"
MILPAC_FILE = "milpac_aligned.json"

# Benchmark suffix -> key in the aligned JSON; group ids are prefixed with the suffix.
CONSTITUTIONS = {
    "ch": "switzerland_federal_constitution_1999",
    "no": "norway_constitution_1814",
}
MILPAC_QA = {"ip": "IP", "cci": "CCI_FAQ"}


def _clean(texts: dict[str, str]) -> dict[str, str]:
    return {lang: text.strip() for lang, text in texts.items() if text and text.strip()}


def constitution_units(folder: Path, which: tuple[str, ...] = ("ch", "no")) -> list[ParallelUnit]:
    """One unit per article; group ``ch/<article id>`` or ``no/<article id>``; query text = candidate text."""
    doc = read_json(require(folder / CONSTITUTIONS_FILE, "constitutions file"))
    units: list[ParallelUnit] = []
    for short in which:
        constitution = doc[CONSTITUTIONS[short]]
        for i, article_id in enumerate(constitution["article_ids"]):
            texts = _clean({lang: articles[i] for lang, articles in constitution["articles"].items()})
            units.append(ParallelUnit(f"{short}/{article_id}", texts, texts))
    return units


def milpac_qa_units(folder: Path, which: tuple[str, ...] = ("ip", "cci")) -> list[ParallelUnit]:
    """One unit per question/answer item; group ``ip/<id>`` or ``cci/<id>``."""
    doc = read_json(require(folder / MILPAC_FILE, "MILPaC file"))
    return [
        ParallelUnit(f"{short}/{item['id']}", _clean(item["question"]), _clean(item["answer"]))
        for short in which
        for item in doc[MILPAC_QA[short]]["items"]
    ]


def milpac_act_units(folder: Path) -> list[ParallelUnit]:
    """One unit per act section (bitext: query text = candidate text); group ``acts/<id>``."""
    doc = read_json(require(folder / MILPAC_FILE, "MILPaC file"))
    units = []
    for item in doc["Acts"]["items"]:
        texts = _clean(item["text"])
        units.append(ParallelUnit(f"acts/{item['id']}", texts, texts))
    return units


def milpac_pairs(folder: Path) -> list[Pair]:
    """Monolingual (question, answer) pairs of MILPaC IP and CCI-FAQ, grouped by item across languages."""
    return [
        Pair(f"milpac:{unit.group}", lang, question, unit.candidates[lang], lang)
        for unit in milpac_qa_units(folder)
        for lang, question in unit.queries.items()
        if lang in unit.candidates
    ]
