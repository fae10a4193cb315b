"""Write a Markdown report with plots (``app.evaluate.write_product_report``) beside each JSON of
``reports/product-eval/`` that compares dense and hybrid search on a whole benchmark's fused questions:
the per-language tables and heatmaps behind README "What hybrid changes on whole benchmarks".

Usage: python scripts/product_reports.py
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app.evaluate import write_product_report


def main() -> int:
    for path in sorted((ROOT / "reports" / "product-eval").glob("*-fused-*.json")):
        result = json.loads(path.read_text(encoding="utf-8"))
        # JSON written before app evaluate recorded its model label: the --model of its command
        result.setdefault("model", (result.get("command") or "").partition("--model ")[2].split(" ")[0] or "default")
        print(write_product_report(result, path.with_suffix("")))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
