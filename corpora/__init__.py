"""Data in: data set loaders, the JSONL format for users' own data, language metadata, settings.

The lowest layer of Polylex; it imports nothing else of ours. Public names are re-exported here::

    from corpora import load_pairs, load_benchmark, get_language
"""

from __future__ import annotations

from corpora.files import DataNotFound
from corpora.jsonl import JsonlFormatError, load_jsonl_benchmark, load_jsonl_pairs, read_jsonl, validate_jsonl
from corpora.languages import (
    LANGUAGES,
    Language,
    UnknownLanguage,
    get_language,
    is_low_resource,
    language_name,
    normalize_code,
    resource_level,
)
from corpora.records import Benchmark, Candidate, Pair, Query
from corpora.registry import (
    BENCHMARKS,
    DATA_SETS,
    DataSet,
    UnknownDataset,
    available,
    data_set,
    load_benchmark,
    load_pairs,
    set_languages,
)
from corpora.settings import Settings, get_settings

__all__ = [
    "BENCHMARKS", "Benchmark", "Candidate", "DATA_SETS", "DataNotFound", "DataSet", "JsonlFormatError",
    "LANGUAGES", "Language", "Pair", "Query", "Settings", "UnknownDataset", "UnknownLanguage", "available",
    "data_set", "get_language", "get_settings", "is_low_resource", "language_name", "load_benchmark",
    "load_jsonl_benchmark", "load_jsonl_pairs", "load_pairs", "normalize_code", "read_jsonl", "resource_level",
    "set_languages", "validate_jsonl",
]
