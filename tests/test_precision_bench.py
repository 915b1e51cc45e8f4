"""The precision benchmark's script: stable samples, labels reused, the weighted share."""

from __future__ import annotations

import argparse
import importlib.util
import json
from pathlib import Path

import pytest

SCRIPT = Path(__file__).parent.parent / "bench" / "precision" / "precision.py"


@pytest.fixture
def bench(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("precision_bench", SCRIPT)
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    (tmp_path / "corpus.toml").write_text(
        '[[repo]]\nname = "a/one"\ncommit = "c1"\nhalf = "dev"\n\n[[repo]]\nname = "b/two"\ncommit = "c2"\nhalf = "test"\n'
    )
    monkeypatch.setattr(module, "CORPUS", tmp_path / "corpus.toml")
    monkeypatch.setattr(module, "LABELS", tmp_path / "labels.csv")
    monkeypatch.setattr(module, "HUNTED", tmp_path / "hunted.csv")
    (tmp_path / "out" / "findings").mkdir(parents=True)
    return module, tmp_path


def _finding(path: str, line: int, code: str) -> dict:
    return {"path": path, "line": line, "column": 1, "code": code, "message": "m"}


def test_report_weights_each_rules_precision_by_its_findings(bench, capsys: pytest.CaptureFixture[str]) -> None:  # type: ignore[no-untyped-def]
    module, root = bench
    dev = [_finding("app/x.py", n, "FR101") for n in range(1, 31)] + [_finding("app/y.py", 1, "FR203"), _finding("tests/t.py", 1, "FR203")]
    (root / "out" / "findings" / "a+one.json").write_text(json.dumps(dev))
    (root / "out" / "findings" / "b+two.json").write_text("[]")
    out = root / "out"
    args = argparse.Namespace(out=str(out), half="dev", per_rule=15, unlabelled=True)
    module.sample(args)
    sampled = capsys.readouterr().out.splitlines()
    assert len(sampled) == 1 + 15 + 2  # header, 15 of FR101's 30, both FR203
    rows = [line.split(",") for line in sampled[1:]]
    # label the sample: FR101 all TP, FR203 one TP one noise
    labels = ["repo,commit,path,line,column,code,verdict,reason"]
    for row in rows:
        verdict = "noise" if row[3] == "tests/t.py" else "TP"
        labels.append(f"{row[1]},{row[2]},{row[3]},{row[4]},{row[5]},{row[6]},{verdict},r")
    (root / "labels.csv").write_text("\n".join(labels) + "\n")
    module.sample(args)
    assert capsys.readouterr().out.splitlines() == sampled[:1]  # everything labelled now
    module.report(argparse.Namespace(out=str(out), half="dev", per_rule=15, corpus_dir=None))
    text = capsys.readouterr().out
    assert "1 in paths that look like tests/migrations/generated code" in text
    # (30 findings x 100% + 2 findings x 50%) / 32
    assert "finding-weighted wanted share: 96.9% (over 32 findings of labelled rules); unlabelled in sample: 0" in text
    # a finding that disappears lets the next one into the sample, which needs a label
    (root / "out" / "findings" / "a+one.json").write_text(json.dumps([f for f in dev if (f["path"], f["line"]) != (rows[0][3], int(rows[0][4]))]))
    module.sample(args)
    assert len(capsys.readouterr().out.splitlines()) == 2


def test_bad_verdicts_and_halves_are_refused(bench) -> None:  # type: ignore[no-untyped-def]
    module, root = bench
    (root / "labels.csv").write_text("repo,commit,path,line,column,code,verdict,reason\na/one,c1,x.py,1,1,FR101,maybe,r\n")
    with pytest.raises(SystemExit, match="verdict 'maybe'"):
        module._labels()
    (root / "corpus.toml").write_text('[[repo]]\nname = "a/one"\ncommit = "c1"\nhalf = "train"\n')
    with pytest.raises(SystemExit, match="half must be dev or test"):
        module.load_corpus()
