"""Multilingual knowledge distillation beside the hybrid InfoNCE loss (Reimers & Gurevych 2020, arXiv 2004.09813).

The teacher is the untuned base model's embedding of each group's *English* question and passage: the
student learns to put every translation there (squared distance of unit vectors, ``2 - 2 cos``), while
the InfoNCE term keeps teaching question-to-passage ranking. The English geometry the base model was
good at monolingually is the anchor; the other languages are pulled onto it rather than everything
drifting together. A group without an English side is anchored on the base model's embedding of the
row's own text (the base model's geometry, kept).

Teacher vectors are computed once per run (through the embedding cache) and looked up per row by the
row's group index, which the dataset carries as its ``label`` column.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from corpora.records import Pair
from trainer.embedding_cache import cache_folder, encode_cached, model_fingerprint


@dataclass(frozen=True)
class Teacher:
    """``queries[i]`` / ``passages[i]``: the teacher's vectors for row ``i``'s question and passage targets,
    stored once per distinct target (``row_query[i]`` and ``row_passage[i]`` index them)."""

    vectors: np.ndarray  # (targets, dim), float32, normalised
    row_query: np.ndarray  # (rows,) int64
    row_passage: np.ndarray  # (rows,) int64


def english_targets(rows: Sequence[Pair]) -> tuple[list[str], list[str]]:
    """Each row's teacher texts: its group's English question and English passage. A translation group
    (NTREX, where the English sentence is only ever the passage) gives its English passage as the
    question's target too; a group with no English side at all, the row's own text."""
    english_q: dict[str, str] = {}
    english_p: dict[str, str] = {}
    for row in rows:
        if row.lang == "en":
            english_q.setdefault(row.group, row.query)
        if row.passage_lang == "en":
            english_p.setdefault(row.group, row.passage)
    return ([english_q.get(r.group) or english_p.get(r.group, r.query) for r in rows],
            [english_p.get(r.group, r.passage) for r in rows])


def build_teacher(rows: Sequence[Pair], teacher_model, *, cache_root: Path | None, batch_size: int = 64) -> Teacher:
    """Encode the distinct teacher texts of ``rows`` with ``teacher_model`` (questions with its query prompt,
    passages with its passage prompt), through the embedding cache."""
    questions, passages = english_targets(rows)
    folder = cache_folder(cache_root, model_fingerprint(teacher_model), "distill-teacher") if cache_root else None
    unique_q = list(dict.fromkeys(questions))
    unique_p = list(dict.fromkeys(passages))
    q_vectors, _ = encode_cached(teacher_model, unique_q, "query", folder=folder, batch_size=batch_size, progress=True)
    p_vectors, _ = encode_cached(teacher_model, unique_p, "passage", folder=folder, batch_size=batch_size, progress=True)
    q_index = {text: i for i, text in enumerate(unique_q)}
    p_index = {text: len(unique_q) + i for i, text in enumerate(unique_p)}
    return Teacher(vectors=np.concatenate([q_vectors, p_vectors]).astype(np.float32),
                   row_query=np.array([q_index[t] for t in questions], dtype=np.int64),
                   row_passage=np.array([p_index[t] for t in passages], dtype=np.int64))


def distillation_loss(model, teacher: Teacher, *, scale: float, weight: float):
    """``MultipleNegativesRankingLoss`` plus ``weight`` x the mean squared distance of the anchor and positive
    embeddings to their teacher vectors; the batch's ``label`` column holds the row indexes."""
    import torch
    from sentence_transformers.sentence_transformer.losses import MultipleNegativesRankingLoss

    class DistilledRankingLoss(MultipleNegativesRankingLoss):
        def __init__(self) -> None:
            super().__init__(model, scale=scale)
            self.register_buffer("teacher", torch.from_numpy(teacher.vectors), persistent=False)
            self.register_buffer("row_query", torch.from_numpy(teacher.row_query), persistent=False)
            self.register_buffer("row_passage", torch.from_numpy(teacher.row_passage), persistent=False)
            self.weight = weight

        def forward(self, sentence_features: Iterable[dict], labels):
            from sentence_transformers.sentence_transformer.losses.multiple_negatives_ranking import embed_columns

            embeddings = embed_columns(self.model, sentence_features)
            ranking = self.compute_loss_from_embeddings(embeddings, labels)
            rows = labels.long().to(self.teacher.device)
            anchor = torch.nn.functional.normalize(embeddings[0], dim=-1)
            positive = torch.nn.functional.normalize(embeddings[1], dim=-1)
            targets_q = self.teacher[self.row_query[rows]].to(anchor.dtype)
            targets_p = self.teacher[self.row_passage[rows]].to(positive.dtype)
            distance = ((anchor - targets_q) ** 2).sum(-1).mean() + ((positive - targets_p) ** 2).sum(-1).mean()
            return ranking + self.weight * distance

        @property
        def citation(self) -> str:
            return "Reimers & Gurevych (2020), Making Monolingual Sentence Embeddings Multilingual using Knowledge Distillation"

    return DistilledRankingLoss()
