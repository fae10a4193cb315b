"""``python -m corpora list [--json]`` and ``validate``."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from corpora.cli import main
from corpora.registry import DATA_SETS

REPO = Path(__file__).resolve().parent.parent


def test_list_json_lists_all_eleven_sets(data_dir: Path, capsys) -> None:
    assert main(["list", "--json", "--data", str(data_dir)]) == 0
    report = json.loads(capsys.readouterr().out)  # stdout is one JSON document and nothing else
    by_name = {s["name"]: s for s in report["sets"]}
    assert set(by_name) == set(DATA_SETS)
    assert len(by_name) == 11  # with ntrex-128 and tatoeba (language-ID text)
    assert report["missing"] == []
    assert all("error" not in s for s in report["sets"])
    assert by_name["xquad-r"]["queries"] == 13_090
    assert by_name["xquad-r"]["candidates"] == 13_014
    assert by_name["mlqa-r-dev"]["pairs"] == 4_199
    assert len(by_name["ntrex128-subset"]["languages"]) == 53
    assert by_name["afriqa"]["pairs_by_split"]["train"] > 0
    assert set(by_name["milpac"]["benchmarks"]) == {"milpac", "milpac-ip", "milpac-cci", "milpac-acts"}
    assert all(s["licence"] and s["source"].startswith("https://") for s in report["sets"])


def test_list_text_one_line_per_set(data_dir: Path, capsys) -> None:
    assert main(["list", "--data", str(data_dir)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == f"data in {data_dir}"
    assert [line.split()[0] for line in lines[1:]] == list(DATA_SETS)


def test_list_missing_folder_says_where(tmp_path: Path, capsys) -> None:
    (tmp_path / "amqa").mkdir()  # present but empty: reported as an error, not a crash
    assert main(["list", "--data", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert f"absent (10), looked for in {tmp_path}" in out
    assert "xquad-r" in out
    assert "amqa" in out
    assert "ERROR" in out
    assert main(["list", "--json", "--data", str(tmp_path / "nowhere")]) == 1
    report = json.loads(capsys.readouterr().out)
    assert report["sets"] == []
    assert len(report["missing"]) == 11
    assert report["missing"][0]["looked_for"] == str(tmp_path / "nowhere" / "xquad")


def test_validate_command(tmp_path: Path, capsys) -> None:
    good = tmp_path / "good.jsonl"
    good.write_text('{"group": "g", "lang": "en", "query": "q", "passage": "p"}\n', encoding="utf-8")
    assert main(["validate", str(good)]) == 0
    assert "ok:" in capsys.readouterr().out
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"group": "g", "lang": "en", "query": "q", "passage": "p"}\n{"group": "g"}\n', encoding="utf-8")
    assert main(["validate", str(bad)]) == 1
    assert f"{bad}:2: field 'lang' is missing" in capsys.readouterr().err


def test_module_entry_point(tmp_path: Path) -> None:
    result = subprocess.run([sys.executable, "-m", "corpora", "list", "--json", "--data", str(tmp_path)],
                            cwd=REPO, capture_output=True, text=True, timeout=120)
    assert result.returncode == 1
    assert len(json.loads(result.stdout)["missing"]) == 11
