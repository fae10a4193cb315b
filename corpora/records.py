"""The two record types every layer speaks: training pairs and retrieval benchmarks."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Pair:
    """One training pair.

    ``group`` ties together translations of the same question/passage across languages:
    X-Y batches are built from it, and two pairs of one group never share a batch
    (their passages would be false negatives).
    ``lang`` is the query's language; ``passage_lang`` the passage's (equal for X-X pairs).
    """

    group: str
    lang: str
    query: str
    passage: str
    passage_lang: str = ""

    def __post_init__(self) -> None:
        if not self.passage_lang:
            object.__setattr__(self, "passage_lang", self.lang)


@dataclass(frozen=True)
class Query:
    id: str
    lang: str
    text: str


@dataclass(frozen=True)
class Candidate:
    id: str
    lang: str
    text: str


@dataclass
class Benchmark:
    """A cross-lingual retrieval benchmark.

    ``relevant[query_id]`` holds the ids of the relevant candidates, in every language.
    ``groups[query_id]`` (optional) names the parallel group of a query, so translations of one
    question can be found together (rank distance uses the relevant set directly).
    """

    name: str
    queries: list[Query]
    candidates: list[Candidate]
    relevant: dict[str, set[str]]
    groups: dict[str, str] = field(default_factory=dict)

    @property
    def languages(self) -> list[str]:
        return sorted({q.lang for q in self.queries} | {c.lang for c in self.candidates})

    def queries_in(self, lang: str) -> list[Query]:
        return [q for q in self.queries if q.lang == lang]

    def candidates_in(self, lang: str) -> list[Candidate]:
        return [c for c in self.candidates if c.lang == lang]
