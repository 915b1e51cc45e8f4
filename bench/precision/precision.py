"""The precision benchmark: fastapi-review on real backends, against hand labels.

    python bench/precision/precision.py prepare --corpus-dir DIR [--mirror DIR]
    python bench/precision/precision.py run     --corpus-dir DIR --out DIR [--checker CMD]
    python bench/precision/precision.py sample  --out DIR [--half dev|test] [--per-rule 15]
    python bench/precision/precision.py report  --out DIR [--half dev|test] [--corpus-dir DIR]
    python bench/precision/precision.py compare --before DIR --after DIR

`prepare` puts each pinned repository of corpus.toml at DIR/<owner>+<name> (from a local bare
mirror when given, else `git clone` from GitHub), `run` checks each one's root with the default
configuration and stores the JSON findings, `sample` lists, per rule and half, the findings to
label (a stable pseudo-random sample: the findings with the smallest hash of their key, so a
finding keeps its place in the sample across runs and its label is reused), and `report` prints
per-rule labelled precision, recall on the hunted instances (misses.csv) and the
finding-weighted wanted share for each half.

Labels live in labels.csv (repo, commit, path, line, column, code, verdict, reason; verdict is TP,
FP or noise — noise is correct but unwanted, e.g. a finding in a test file) and hunted
instances in hunted.csv (repo, commit, path, line, code, reason): real problems looked for by
hand, found or not by the checker.  Neither holds any of the repositories' code.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
from collections import Counter, defaultdict
from pathlib import Path

try:
    import tomllib
except ModuleNotFoundError:  # Python < 3.11
    import tomli as tomllib

HERE = Path(__file__).resolve().parent
CORPUS = HERE / "corpus.toml"
LABELS = HERE / "labels.csv"
HUNTED = HERE / "hunted.csv"
LABEL_FIELDS = ["repo", "commit", "path", "line", "column", "code", "verdict", "reason"]
HUNTED_FIELDS = ["repo", "commit", "path", "line", "code", "reason"]
VERDICTS = ("TP", "FP", "noise")
# Files a team would not want application findings in, judged by path alone: an independent
# check of the checker's own file roles (the checker decides roles by more than the path).
ROLE_PATH = re.compile(
    r"(^|/)(tests?|testing|migrations|alembic|versions)/|(^|/)(test_[^/]*|[^/]*_test|conftest)\.py$"
    r"|_pb2(_grpc)?\.pyi?$"
)


def load_corpus() -> list[dict]:
    with CORPUS.open("rb") as handle:
        repos = tomllib.load(handle)["repo"]
    for repo in repos:
        if repo["half"] not in ("dev", "test"):
            sys.exit(f"{CORPUS}: {repo['name']}: half must be dev or test")
    return repos


def slug(name: str) -> str:
    return name.replace("/", "+")


def prepare(args: argparse.Namespace) -> None:
    corpus_dir = Path(args.corpus_dir)
    corpus_dir.mkdir(parents=True, exist_ok=True)
    for repo in load_corpus():
        target = corpus_dir / slug(repo["name"])
        stamp = target / ".precision-commit"
        if stamp.is_file() and stamp.read_text().strip() == repo["commit"]:
            continue
        if target.exists():
            shutil.rmtree(target)
        target.mkdir()
        mirror = Path(args.mirror) / slug(repo["name"]) / "repo" if args.mirror else None
        if mirror is not None and (mirror / "HEAD").is_file():
            _extract_from_mirror(mirror, repo["commit"], target)
        else:
            _clone(repo["name"], repo["commit"], target)
        stamp.write_text(repo["commit"] + "\n")
        print(f"prepared {repo['name']} @ {repo['commit'][:10]}", file=sys.stderr)


def _extract_from_mirror(git_dir: Path, commit: str, target: Path) -> None:
    with tempfile.TemporaryFile() as archive:
        done = subprocess.run(
            ["git", f"--git-dir={git_dir}", "archive", commit], stdout=archive, stderr=subprocess.DEVNULL
        )
        if done.returncode == 0:
            archive.seek(0)
            with tarfile.open(fileobj=archive) as tar:
                tar.extractall(target, filter="data")
            return
    # A partial mirror (large blobs missing): the files the checker reads, one by one.
    listing = subprocess.run(
        ["git", f"--git-dir={git_dir}", "ls-tree", "-r", "--name-only", commit],
        capture_output=True, text=True, check=True,
    ).stdout.splitlines()
    wanted = re.compile(r"\.(py|pyi|toml|cfg|ini|txt|lock)$|(^|/)\.gitignore$")
    for name in listing:
        if not wanted.search(name):
            continue
        blob = subprocess.run(["git", f"--git-dir={git_dir}", "show", f"{commit}:{name}"], capture_output=True)
        if blob.returncode == 0:
            path = target / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(blob.stdout)


def _clone(name: str, commit: str, target: Path) -> None:
    url = f"https://github.com/{name}.git"
    subprocess.run(["git", "init", "-q", str(target)], check=True)
    subprocess.run(["git", "-C", str(target), "fetch", "-q", "--depth", "1", url, commit], check=True)
    subprocess.run(["git", "-C", str(target), "checkout", "-q", "FETCH_HEAD"], check=True)
    shutil.rmtree(target / ".git")


def run(args: argparse.Namespace) -> None:
    corpus_dir = Path(args.corpus_dir)
    findings_dir = Path(args.out) / "findings"
    findings_dir.mkdir(parents=True, exist_ok=True)
    checker = args.checker.split() if args.checker else [sys.executable, "-m", "fastapi_review"]
    for repo in load_corpus():
        if args.half and repo["half"] != args.half:
            continue
        base = corpus_dir / slug(repo["name"])
        root = base / repo.get("root", ".")
        command = [*checker, "check", str(root), "--format", "json", "--no-cache", "--exit-zero", "--quiet"]
        done = subprocess.run(command, capture_output=True, text=True, cwd=base)
        if done.returncode != 0:
            sys.exit(f"{repo['name']}: the checker exited {done.returncode}:\n{done.stderr[-2000:]}")
        findings = json.loads(done.stdout)
        for finding in findings:
            finding["path"] = os.path.relpath(Path(base, finding["path"]).resolve(), base.resolve())
        (findings_dir / f"{slug(repo['name'])}.json").write_text(json.dumps(findings, indent=0))
        print(f"{repo['name']}: {len(findings)} findings", file=sys.stderr)


def _key(repo: str, path: str, line: object, column: object, code: str) -> tuple[str, str, str, str, str]:
    return (repo, path, str(line), str(column), code)


def _findings(out: Path, half: str | None) -> list[dict]:
    found = []
    for repo in load_corpus():
        if half and repo["half"] != half:
            continue
        path = out / "findings" / f"{slug(repo['name'])}.json"
        if not path.is_file():
            sys.exit(f"{path}: missing; run `precision.py run` first")
        for finding in json.loads(path.read_text()):
            found.append({**finding, "repo": repo["name"], "commit": repo["commit"], "half": repo["half"]})
    return found


def _labels() -> dict[tuple[str, ...], dict]:
    if not LABELS.is_file():
        return {}
    labels = {}
    with LABELS.open(newline="") as handle:
        for row in csv.DictReader(handle):
            if row["verdict"] not in VERDICTS:
                sys.exit(f"{LABELS}: verdict {row['verdict']!r} is not one of {VERDICTS}")
            labels[_key(row["repo"], row["path"], row["line"], row["column"], row["code"])] = row
    return labels


def _sample(findings: list[dict], per_rule: int) -> dict[tuple[str, str], list[dict]]:
    """Per (half, code): the `per_rule` findings with the smallest hash of their key."""
    groups: dict[tuple[str, str], list[dict]] = defaultdict(list)
    for finding in findings:
        groups[finding["half"], finding["code"]].append(finding)
    sample = {}
    for group, members in groups.items():
        members.sort(key=lambda f: hashlib.sha256(
            "|".join(_key(f["repo"], f["path"], f["line"], f["column"], f["code"])).encode()).hexdigest())
        sample[group] = members[:per_rule]
    return sample


def sample(args: argparse.Namespace) -> None:
    labels = _labels()
    chosen = _sample(_findings(Path(args.out), args.half), args.per_rule)
    writer = csv.writer(sys.stdout)
    writer.writerow(["half", "repo", "commit", "path", "line", "column", "code", "message", "verdict", "reason"])
    for (half, code), members in sorted(chosen.items()):
        for f in members:
            label = labels.get(_key(f["repo"], f["path"], f["line"], f["column"], f["code"]), {})
            if args.unlabelled and label:
                continue
            writer.writerow([half, f["repo"], f["commit"], f["path"], f["line"], f["column"], f["code"],
                             f["message"], label.get("verdict", ""), label.get("reason", "")])


def report(args: argparse.Namespace) -> None:
    out = Path(args.out)
    labels = _labels()
    halves = [args.half] if args.half else ["dev", "test"]
    hunted = []
    if HUNTED.is_file():
        with HUNTED.open(newline="") as handle:
            hunted = list(csv.DictReader(handle))
    for half in halves:
        findings = _findings(out, half)
        counts = Counter(f["code"] for f in findings)
        chosen = _sample(findings, args.per_rule)
        where = {(f["repo"], f["path"], str(f["line"]), f["code"]) for f in findings}
        half_repos = {r["name"] for r in load_corpus() if r["half"] == half}
        leaks = sum(1 for f in findings if ROLE_PATH.search(f["path"]))
        by_role = _role_counts(findings, args.corpus_dir) if args.corpus_dir else None
        print(f"\n== {half}: {len(findings)} findings in {len(half_repos)} repositories; "
              f"{leaks} in paths that look like tests/migrations/generated code"
              + (f"; by the checker's own file roles: {dict(sorted(by_role.items()))}" if by_role else ""))
        print(f"{'code':6} {'findings':>8} {'labelled':>8} {'TP':>3} {'FP':>3} {'noise':>5} {'precision':>9} {'recall':>9}")
        weighted = total = 0.0
        unlabelled = 0
        for code in sorted(counts):
            verdicts = Counter()
            for f in chosen[half, code]:
                label = labels.get(_key(f["repo"], f["path"], f["line"], f["column"], f["code"]))
                if label is None:
                    unlabelled += 1
                else:
                    verdicts[label["verdict"]] += 1
            labelled = sum(verdicts.values())
            precision = verdicts["TP"] / labelled if labelled else None
            instances = [h for h in hunted if h["code"] == code and h["repo"] in half_repos]
            caught = sum(1 for h in instances if (h["repo"], h["path"], h["line"], code) in where)
            recall = f"{caught}/{len(instances)}" if instances else "-"
            if precision is not None:
                weighted += precision * counts[code]
                total += counts[code]
            shown = f"{precision:.0%}" if precision is not None else "-"
            print(f"{code:6} {counts[code]:8} {labelled:8} {verdicts['TP']:3} {verdicts['FP']:3} "
                  f"{verdicts['noise']:5} {shown:>9} {recall:>9}")
        for code in sorted({h["code"] for h in hunted if h["repo"] in half_repos} - set(counts)):
            instances = [h for h in hunted if h["code"] == code and h["repo"] in half_repos]
            print(f"{code:6} {0:8} {0:8} {'':3} {'':3} {'':5} {'-':>9} {'0/' + str(len(instances)):>9}")
        share = f"{weighted / total:.1%}" if total else "-"
        print(f"finding-weighted wanted share: {share} (over {int(total)} findings of labelled rules); "
              f"unlabelled in sample: {unlabelled}")


def _role_counts(findings: list[dict], corpus_dir: str) -> Counter:
    """Findings per file role, as the checker decides roles (roles.py) for each file."""
    from fastapi_review.config import Config
    from fastapi_review.roles import RoleResolver

    repos = {r["name"]: r for r in load_corpus()}
    resolvers: dict[str, tuple[RoleResolver, Path]] = {}
    counts: Counter = Counter()
    for finding in findings:
        repo = repos[finding["repo"]]
        if repo["name"] not in resolvers:
            root = (Path(corpus_dir) / slug(repo["name"]) / repo.get("root", ".")).resolve()
            resolvers[repo["name"]] = (RoleResolver(Config(root=root)), root)
        resolver, root = resolvers[repo["name"]]
        path = (Path(corpus_dir) / slug(repo["name"]) / finding["path"]).resolve()
        relative = path.relative_to(root).as_posix()
        counts[resolver.role(relative, path, path.read_bytes())] += 1
    return counts


def _stats(out: Path, half: str, per_rule: int) -> tuple[dict[str, dict], float | None, int]:
    """Per rule: findings, labelled, TP/FP/noise, precision; the weighted share; the findings."""
    labels = _labels()
    findings = _findings(out, half)
    counts = Counter(f["code"] for f in findings)
    chosen = _sample(findings, per_rule)
    rules: dict[str, dict] = {}
    weighted = total = 0.0
    for code in sorted(counts):
        verdicts: Counter = Counter()
        for f in chosen[half, code]:
            label = labels.get(_key(f["repo"], f["path"], f["line"], f["column"], f["code"]))
            if label is not None:
                verdicts[label["verdict"]] += 1
        labelled = sum(verdicts.values())
        precision = verdicts["TP"] / labelled if labelled else None
        rules[code] = {"findings": counts[code], "labelled": labelled, **{v: verdicts[v] for v in VERDICTS}, "precision": precision}
        if precision is not None:
            weighted += precision * counts[code]
            total += counts[code]
    return rules, (weighted / total if total else None), len(findings)


def compare(args: argparse.Namespace) -> None:
    """A Markdown table per half: each rule before and after (for results.md)."""
    def pct(value: float | None) -> str:
        return "-" if value is None else f"{value:.0%}"

    for half in ("dev", "test"):
        before, before_share, before_total = _stats(Path(args.before), half, args.per_rule)
        after, after_share, after_total = _stats(Path(args.after), half, args.per_rule)
        print(f"## {half}\n")
        share = lambda v: "-" if v is None else f"{v:.1%}"  # noqa: E731
        print(f"Findings {before_total:,} → {after_total:,}; finding-weighted wanted share "
              f"**{share(before_share)} → {share(after_share)}**.\n")
        print("| rule | findings before | precision before | findings after | precision after (TP/FP/noise of labelled) |")
        print("|---|---:|---:|---:|---:|")
        for code in sorted(set(before) | set(after)):
            b, a = before.get(code), after.get(code)
            after_cell = "-" if a is None else f"{pct(a['precision'])} ({a['TP']}/{a['FP']}/{a['noise']} of {a['labelled']})"
            print(f"| {code} | {b['findings'] if b else 0} | {pct(b['precision']) if b else '-'} | "
                  f"{a['findings'] if a else 0} | {after_cell} |")
        print()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    p = commands.add_parser("prepare")
    p.add_argument("--corpus-dir", required=True)
    p.add_argument("--mirror", help="a directory of bare mirrors, <owner>+<name>/repo")
    p.set_defaults(func=prepare)
    p = commands.add_parser("run")
    p.add_argument("--corpus-dir", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--half", choices=["dev", "test"])
    p.add_argument("--checker", help="the command to run (default: this interpreter's fastapi_review)")
    p.set_defaults(func=run)
    for name, func in (("sample", sample), ("report", report)):
        p = commands.add_parser(name)
        p.add_argument("--out", required=True)
        p.add_argument("--half", choices=["dev", "test"])
        p.add_argument("--per-rule", type=int, default=15)
        if name == "report":
            p.add_argument("--corpus-dir", help="also count findings per file role, as the checker decides roles")
        if name == "sample":
            p.add_argument("--unlabelled", action="store_true", help="only the findings not labelled yet")
        p.set_defaults(func=func)
    p = commands.add_parser("compare", help="Markdown tables of two runs, per half and rule")
    p.add_argument("--before", required=True)
    p.add_argument("--after", required=True)
    p.add_argument("--per-rule", type=int, default=15)
    p.set_defaults(func=compare)
    args = parser.parse_args()
    args.func(args)


if __name__ == "__main__":
    main()
