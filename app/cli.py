"""``python -m app COMMAND``: ingest, search, list, delete, reindex, doctor and migrate a Polylex store.

Every command takes ``--store DIR|URL`` (default ``POLYLEX_STORE``, ``./polylex-store``); those that
encode take ``--model M`` (default ``POLYLEX_MODEL``). ``--json`` prints one JSON document on
stdout and nothing else there; progress and model-loading messages go to stderr.
Exit codes: 0 done, 1 done but something was refused or is still wrong, 2 bad input.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from app.errors import AppError
from corpora.errors import PolylexError

EPILOG = """examples:
  python -m app ingest contracts/ statutes/constitution-de.pdf
  python -m app search "Wer wählt den Bundesrat?" --k 5 --langs en,fr
  python -m app search "Article 175" --mode hybrid --json
  python -m app list
  python -m app delete constitution-de.pdf
  python -m app reindex --model runs/hybrid
  python -m app doctor
  python -m app migrate --from polylex-store --to postgresql://polylex@db.example/polylex
"""


class UsageError(AppError, ValueError):
    """Bad arguments or input: one line on stderr, exit code 2."""


def _settings(args: argparse.Namespace):
    from corpora.settings import get_settings

    return get_settings(store=getattr(args, "store", None), model=getattr(args, "model", None),
                        max_mb=getattr(args, "max_mb", None), ocr=getattr(args, "ocr", None),
                        ocr_timeout=getattr(args, "ocr_timeout", None))


def _open_store(args: argparse.Namespace):
    from app.store_open import open_store

    settings = _settings(args)
    return open_store(settings.store, cache=settings.cache)


def _load_encoder(args: argparse.Namespace):
    from trainer.encoder import load_encoder

    settings = _settings(args)
    return load_encoder(settings.model, settings=settings)


def _print_json(value: Any) -> None:
    print(json.dumps(value, ensure_ascii=False, indent=2))


def _csv(value: str | None) -> list[str] | None:
    return [part.strip() for part in value.split(",") if part.strip()] if value else None


class _TqdmProgress:
    """Adapts ``progress(fraction, desc=...)`` to a tqdm bar on stderr."""

    def __init__(self, total_label: str) -> None:
        from tqdm import tqdm

        self.bar = tqdm(total=1000, desc=total_label, file=sys.stderr, leave=False,
                        bar_format="{desc} {bar} {percentage:3.0f}%")

    def __call__(self, fraction: float, desc: str = "") -> None:
        self.bar.set_description_str(desc[:70])
        self.bar.update(max(0, int(fraction * 1000) - self.bar.n))

    def close(self) -> None:
        self.bar.close()


# --- commands -------------------------------------------------------------------------------------

def cmd_ingest(args: argparse.Namespace) -> int:
    from app.ingest import check_lang, ingest_paths

    check_lang(args.lang)
    store, encoder = _open_store(args), _load_encoder(args)
    progress = _TqdmProgress("ingest")
    try:
        # Ctrl-C stops between (or inside) pages; what was stored before it stays, the file being read is not written.
        results = ingest_paths(args.paths, store=store, encoder=encoder, lang=args.lang,
                               settings=_settings(args), progress=progress)
    finally:
        progress.close()
    if args.json:
        _print_json({"results": [r.to_dict() for r in results]})
    else:
        for result in results:
            print(result.line())
    return 1 if any(r.status in ("refused", "cancelled") for r in results) else 0


def _resolve_docs(store, keys: list[str] | None) -> list[int] | None:
    if not keys:
        return None
    ids = []
    for key in keys:
        found = store.find_documents(key)
        if not found:
            raise UsageError(f"no document {key!r} in the store (see `python -m app list`)")
        ids += [d.id for d in found]
    return ids


def cmd_search(args: argparse.Namespace) -> int:
    from app.search import search

    if args.k < 1:
        raise UsageError(f"--k {args.k}: it must be at least 1")
    store = _open_store(args)
    docs = _resolve_docs(store, _csv(args.docs))
    encoder = _load_encoder(args)
    response = search(store, encoder, args.query, k=args.k, langs=_csv(args.langs), docs=docs, mode=args.mode,
                      query_lang=args.query_lang, phrases_only=args.phrases_only)
    if args.json:
        _print_json(response.to_dict())
        return 0
    print(f"query language: {response.query_lang} · {response.mode} · {len(response.results)} results")
    for rank, hit in enumerate(response.results, start=1):
        pages = f"p. {hit.page}" if hit.page == hit.page_end else f"pp. {hit.page}-{hit.page_end}"
        heading = f"  {hit.heading}" if hit.heading else ""
        print(f"{rank:>2}. {hit.score:.3f}  [{hit.lang}] {hit.file} {pages}{heading}")
        print(f"    {hit.snippet()}")
    return 0


def cmd_list(args: argparse.Namespace) -> int:
    store = _open_store(args)
    documents = store.documents()
    if args.json:
        _print_json({"store": str(store.folder), "stats": store.stats(), "documents": [d.__dict__ for d in documents]})
        return 0
    if not documents:
        print(f"{store.folder}: no documents yet (python -m app ingest PATH...)")
        return 0
    print(f"{'id':>4}  {'lang':<5} {'pages':>5} {'chunks':>6}  {'added':<20} file — title")
    for d in documents:
        print(f"{d.id:>4}  {d.lang:<5} {d.pages:>5} {d.chunks:>6}  {d.added:<20} {d.file} — {d.title[:60]}")
    stats = store.stats()
    print(f"{stats['documents']} documents, {stats['chunks']} chunks; index {stats['index']}; model {stats['model']}")
    return 0


def cmd_delete(args: argparse.Namespace) -> int:
    store = _open_store(args)
    found = store.find_documents(args.doc)
    if not found:
        raise UsageError(f"no document {args.doc!r} in the store (see `python -m app list`)")
    if len(found) > 1:
        raise UsageError(f"{args.doc!r} names {len(found)} documents (ids {', '.join(str(d.id) for d in found)}); "
                         "delete by id")
    doc = store.delete_document(found[0].id)
    if args.json:
        _print_json({"deleted": doc.__dict__})
    else:
        print(f"deleted document {doc.id} ({doc.file}, {doc.chunks} chunks)")
    return 0


def cmd_reindex(args: argparse.Namespace) -> int:
    from app.ingest import model_id, reindex

    store, encoder = _open_store(args), _load_encoder(args)
    before = store.model_id
    progress = _TqdmProgress("reindex")
    try:
        count = reindex(store, encoder, progress=progress)
    finally:
        progress.close()
    result = {"chunks": count, "from_model": before, "to_model": model_id(encoder), "index": store.index_description()}
    if args.json:
        _print_json(result)
    else:
        print(f"re-embedded {count} chunks: {before} -> {result['to_model']}; index {result['index']}")
    return 0


def cmd_doctor(args: argparse.Namespace) -> int:
    store = _open_store(args)
    report = store.doctor(repair=not args.no_repair)
    if args.json:
        _print_json(report.to_dict())
    else:
        for problem in report.problems:
            print(f"problem   {problem}")
        for repair in report.repaired:
            print(f"repaired  {repair}")
        state = "consistent" if report.ok else "NOT consistent"
        print(f"{state}: {report.documents} documents, {report.chunks} chunks, index {report.index}")
    return 0 if report.ok else 1


def cmd_migrate(args: argparse.Namespace) -> int:
    from app.migrate import migrate
    from app.store_open import describe_store, open_store

    settings = _settings(args)
    if args.source == args.target:
        raise UsageError("--from and --to name the same store")
    source, target = open_store(args.source, cache=settings.cache), open_store(args.target, cache=settings.cache)
    progress = _TqdmProgress("migrate")
    try:
        report = migrate(source, target, progress=progress)
    finally:
        progress.close()
        source.close()
        target.close()
    if args.json:
        _print_json(report.to_dict())
    else:
        print(f"copied {report.documents_copied} documents ({report.chunks_copied} passages, nothing re-encoded), "
              f"skipped {report.documents_skipped} already there, {report.translation_sets} translation sets; "
              f"{describe_store(args.source)} -> {describe_store(args.target)}")
        for problem in report.problems:
            print(f"problem   {problem}")
        if report.ok:
            print(f"verified: documents, passages per language and {report.vectors_checked} sampled passages "
                  "(text and vector) agree")
        else:
            print("NOT verified: see the problems above; run the same command again to resume")
    return 0 if report.ok else 1


def cmd_evaluate(args: argparse.Namespace) -> int:
    """Score the product's own search path on a benchmark (``app.evaluate``)."""
    import tempfile
    from pathlib import Path

    from app.evaluate import evaluate_modes, fused_queries, quoted_queries, reference_queries, write_product_report
    from app.vector_index import IndexPolicy
    from corpora import load_benchmark

    if args.limit is not None and args.limit < 1:
        raise UsageError(f"--limit must be at least 1, got {args.limit}")
    settings = _settings(args)
    benchmark = load_benchmark(args.benchmark, langs=args.langs.split(",") if args.langs else None, limit=args.limit,
                               settings=settings)
    if args.queries == "references":
        benchmark = reference_queries(benchmark)
        if not benchmark.queries:
            raise UsageError(f"{args.benchmark}: no passage starts with a provision reference (Art. N, § N)")
    elif args.queries in ("quoted", "fused"):
        benchmark = (quoted_queries if args.queries == "quoted" else fused_queries)(benchmark)
        if not benchmark.queries:
            raise UsageError(f"{args.benchmark}: no question {'quotes a phrase' if args.queries == 'quoted' else 'is fused'}")
    policy = None
    if args.index == "ivf":
        # The store's IVF at the store's probe ratio (nprobe 32 of 256 lists: 1/8), with the 39 passages a
        # list that FAISS's k-means asks for: what the approximate index costs, on a set small enough to run.
        lists = max(2, min(256, len(benchmark.candidates) // 39))
        policy = IndexPolicy(approximate_from=1, approximate=f"IDMap,IVF{lists},Flat", nprobe=max(1, lists // 8))
    modes = list(dict.fromkeys(args.mode))
    for option, value in (("--json", args.json), ("--report", args.report)):
        if value and len(modes) > 1 and "{mode}" not in value:
            raise UsageError(f"with several --mode values, {option} needs {{mode}} in its path (e.g. out/xquad-r-{{mode}})")
    encoder = _load_encoder(args)
    progress = _TqdmProgress("evaluate")
    try:
        with tempfile.TemporaryDirectory(prefix="polylex-evaluate-") as tmp:
            results = evaluate_modes(benchmark, encoder, folder=Path(tmp) / "store", modes=modes,
                                     keywords=args.keywords, policy=policy, progress=progress)
    finally:
        progress.close()
    for result in results:
        result["command"] = "python -m app evaluate " + " ".join(sys.argv[2:] if len(sys.argv) > 2 else [])
        result["model"] = encoder.polylex_label
        if args.json:
            out = Path(args.json.replace("{mode}", result["mode"]))
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_text(json.dumps(result, indent=2, ensure_ascii=False), encoding="utf-8")
        if args.report:
            path = write_product_report(result, Path(args.report.replace("{mode}", result["mode"])))
            print(f"report: {path}", file=sys.stderr)
        _print_evaluation(result)
    return 0


def _print_evaluation(result: dict) -> None:
    s = result["summary"]
    print(f"{result['benchmark']} through the product ({result['mode']}"
          + (f", keywords: {result['keywords']}" if result["keywords"] else "") + f"; {result['index']}): "
          f"{result['counts']['queries']} queries, {result['counts']['candidates']} passages")
    def f(key: str, digits: int = 3) -> str:
        return "-" if s.get(key) is None else f"{s[key]:.{digits}f}"

    print(f"mAP mono {f('map_mono')}  cross {f('map_cross')}  multi {f('map_multi')}  "
          f"rank distance {f('rank_distance', 1)}  languages in top 10 {f('languages_in_top_10', 2)}  "
          f"own-language share of top 10 {f('own_language_share_top_10', 2)}  (language ID agrees on "
          f"{result['langid_accuracy']:.1%} of passages)")
    if "keyword_hits_by_language" in result:
        print("questions the keyword index matches anything for: "
              + "  ".join(f"{lang} {share:.2f}" for lang, share in result["keyword_hits_by_language"].items()))
        print("keyword search alone, in the question's language (Recall@10 / mAP): " + "  ".join(
            f"{lang} {v['recall_at_10']:.2f}/{v['map']:.2f}" for lang, v in result["keyword_by_language"].items()))


# --- parser -------------------------------------------------------------------------------------

def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m app", description=__doc__.splitlines()[0], epilog=EPILOG,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name: str, run, help_text: str, *, model: bool = False, json_flag: bool = True):
        cmd = sub.add_parser(name, help=help_text, description=help_text)
        cmd.add_argument("--store", help="store folder or postgresql:// URL (default POLYLEX_STORE or ./polylex-store)")
        if model:
            cmd.add_argument("--model", help="encoder: default, a model folder or a hub id (default POLYLEX_MODEL)")
        if json_flag:
            cmd.add_argument("--json", action="store_true", help="print one JSON document on stdout")
        cmd.set_defaults(_run=run)
        return cmd

    ingest = command("ingest", cmd_ingest, "add PDFs (or folders of PDFs) to the store", model=True)
    ingest.add_argument("paths", nargs="+", metavar="PATH")
    ingest.add_argument("--lang", help="language code for these documents, instead of detecting it (e.g. de, sw)")
    ingest.add_argument("--max-mb", type=float, dest="max_mb", help="largest PDF accepted in MiB (POLYLEX_MAX_MB)")
    ingest.add_argument("--ocr", choices=["auto", "off"],
                        help="auto: read scanned pages with Tesseract (default, POLYLEX_OCR); off: leave them unread")
    ingest.add_argument("--ocr-timeout", type=float, dest="ocr_timeout",
                        help="seconds of OCR per page before it is skipped with a warning (POLYLEX_OCR_TIMEOUT, 120)")

    search = command("search", cmd_search, "search the store in any language", model=True)
    search.add_argument("query")
    search.add_argument("--k", type=int, default=10, help="number of results (default 10)")
    search.add_argument("--langs", help="only chunks in these languages, comma-separated (e.g. en,fr)")
    search.add_argument("--docs", help="only these documents: ids or file names, comma-separated")
    search.add_argument("--mode", choices=["dense", "hybrid"], default="dense",
                        help="dense (default) or hybrid: dense fused with a keyword search for the query's "
                             "numbers, acronyms and quoted words (language-neutral terms)")
    search.add_argument("--query-lang", dest="query_lang", help="the query's language, instead of detecting it")
    search.add_argument("--phrases-only", action="store_true",
                        help='only passages holding every "quoted phrase" of the query as written, ranked by meaning')

    command("list", cmd_list, "list the documents in the store")
    delete = command("delete", cmd_delete, "delete a document (by id, file name or content-hash prefix)")
    delete.add_argument("doc", metavar="DOC")
    reindex = command("reindex", cmd_reindex, "re-embed every chunk with another model (atomic swap)", model=True)
    reindex.set_defaults(model_required=True)
    doctor = command("doctor", cmd_doctor, "check the store's parts against each other (SQLite and FAISS, or the "
                     "PostgreSQL tables and indexes) and repair")
    doctor.add_argument("--no-repair", action="store_true", help="only report")
    evaluate = sub.add_parser("evaluate", help="score the product's search path on a benchmark",
                              description="store a benchmark's candidates as passages (SQLite, FAISS), ask every "
                              "query through the app's search, and score with the trainer's metrics")
    evaluate.add_argument("--benchmark", required=True, help="xquad-r, mlqa-r, constitutions, milpac, afriqa, or FILE.jsonl")
    evaluate.add_argument("--mode", choices=["dense", "hybrid", "keywords"], nargs="+", default=["dense"],
                          help="the search modes, or keywords: the keyword index alone (BM25, every word); "
                               "several share one store, encoded once (then --json needs {mode} in its path)")
    evaluate.add_argument("--keywords", default="references",
                          choices=["references", "references-flat", "phrases-first", "phrases-fused", "all"],
                          help="hybrid's keyword side: language-neutral terms when the query is mostly such terms, "
                               "quoted phrases marked (default); for comparison: the same terms for every query, "
                               "quoted phrases first within their language, fused like references, or every word")
    evaluate.add_argument("--queries", choices=["natural", "references", "quoted", "fused"], default="natural",
                          help="the benchmark's questions, the provision reference heading each relevant passage, "
                               "only the questions that quote a phrase in double quotes, or only those hybrid "
                               "fuses keyword evidence for (the questions on which hybrid and dense can differ)")
    evaluate.add_argument("--index", choices=["auto", "ivf"], default="auto",
                          help="the index the store would choose at this size, or IVF forced at the store's probe "
                               "ratio (1/8 of the lists; to measure what the approximate index loses)")
    evaluate.add_argument("--langs", help="only these languages, comma-separated")
    evaluate.add_argument("--limit", type=int, help="at most N question groups per language")
    evaluate.add_argument("--model", help="encoder (default POLYLEX_MODEL)")
    evaluate.add_argument("--json", metavar="OUT", help="write the full result (per language and pair) to OUT")
    evaluate.add_argument("--report", metavar="DIR", help="write REPORT.md and PNG plots (per language, language "
                          "pairs) into DIR, as `trainer evaluate --report` does; {mode} as for --json")
    evaluate.set_defaults(_run=cmd_evaluate, store=None)
    migrate = sub.add_parser("migrate", help="copy a library into another store (e.g. a folder into PostgreSQL)",
                             description="copy every document, with its stored embeddings (nothing is re-encoded), "
                             "into another store, then verify counts and a sample of vectors; run again to resume")
    migrate.add_argument("--from", dest="source", required=True, help="the store to copy: a folder or a postgresql:// URL")
    migrate.add_argument("--to", dest="target", required=True, help="the store to copy into (created if new)")
    migrate.add_argument("--json", action="store_true", help="print one JSON document on stdout")
    migrate.set_defaults(_run=cmd_migrate, store=None)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "model_required", False) and not args.model:
        parser.error("reindex needs --model M (the model to re-embed with)")
    try:
        return int(args._run(args) or 0)
    except (PolylexError, ValueError) as exc:  # Polylex errors: UsageError, ModelMismatch, NotInLibrary ...
        print(f"error: {exc}", file=sys.stderr)
        return 2
