"""Compare two ``trainer bitext`` reports language by language (issue 18: "none may fall below the base").

Usage: python scripts/bitext_compare.py reports/bitext/base-ntrex.json reports/bitext/default-ntrex.json
Prints the summaries side by side, the files whose accuracy fell, and the largest gains.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path


def main() -> int:
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    before, after = (json.loads(Path(p).read_text(encoding="utf-8")) for p in sys.argv[1:])
    for key in ("accuracy_all", "accuracy_high", "accuracy_low"):
        print(f"{key}: {before['summary'][key]:.4f} -> {after['summary'][key]:.4f} ({after['summary'][key] - before['summary'][key]:+.4f})")
    deltas = sorted(
        (after["files"][name]["accuracy"] - row["accuracy"], name, row["lang"], row["resource"], row["accuracy"], after["files"][name]["accuracy"])
        for name, row in before["files"].items() if name in after["files"]
    )
    fell = [d for d in deltas if d[0] < 0]
    print(f"{len(deltas)} files; fell: {len(fell)}; unchanged: {sum(d[0] == 0 for d in deltas)}; rose: {sum(d[0] > 0 for d in deltas)}")
    for delta, name, lang, resource, old, new in fell:
        print(f"  fell  {name} ({lang}, {resource}): {old:.4f} -> {new:.4f} ({delta:+.4f})")
    for delta, name, lang, resource, old, new in deltas[-10:][::-1]:
        print(f"  gain  {name} ({lang}, {resource}): {old:.4f} -> {new:.4f} ({delta:+.4f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
