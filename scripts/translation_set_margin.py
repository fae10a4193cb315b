"""How ``app.diagnostics.MIN_MARGIN`` was chosen for the default model: on the demo laws (whole, and
three-chunk versions like the browser test's PDFs), for each margin, the pairs of different laws linked
as a translation set, the small libraries (2-3 whole laws) where a set mixes the two laws, the
three-chunk pairs of one law in two languages still found, and whether the whole library gives its two
sets.

Usage: python scripts/translation_set_margin.py [--model default] [--margins 0.2,0.25,0.3]
"""

from __future__ import annotations

import argparse
import itertools
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app import diagnostics as dg
from app.demo_corpus import demo_law_versions
from trainer.encoder import load_encoder


def law(name: str) -> str:
    return name.split(".")[0]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="default")
    parser.add_argument("--margins", default="0.2,0.25,0.3,0.35,0.4")
    args = parser.parse_args()
    full, short = demo_law_versions(load_encoder(args.model))
    sets = [frozenset(n for n in full if n.startswith("tenancy.")), frozenset(n for n in full if n.startswith("data-protection."))]
    print("margin  false pairs  mixed libraries  same-law pairs found  whole library right")
    for margin in (float(m) for m in args.margins.split(",")):
        def linked(docs: dict, m: float = margin) -> list:
            return dg.detect_translation_sets(docs, min_margin=m)

        pairs = [(a, b) for a, b in itertools.combinations(short, 2) if short[a].lang != short[b].lang]
        false = sum(bool(linked({a: short[a], b: short[b]})) for a, b in pairs if law(a) != law(b))
        same = [(a, b) for a, b in pairs if law(a) == law(b) and a.split("@")[1] == b.split("@")[1]]
        found = sum(bool(linked({a: short[a], b: short[b]})) for a, b in same)
        libraries = [names for size in (2, 3) for names in itertools.combinations(full, size)]
        mixed = sum(any(len({law(n) for n in s}) > 1 for s in linked({n: full[n] for n in names})) for names in libraries)
        print(f"{margin:<7} {false:<12} {mixed} of {len(libraries):<11} {found} of {len(same):<17} {linked(full) == sets}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
