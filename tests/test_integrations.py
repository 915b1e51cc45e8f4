"""Integrations driven through the real tools: SARIF schema, flake8, pre-commit, stdin, baselines."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
from cli_helpers import run

ROOT = Path(__file__).resolve().parents[1]
BAD = "def f(x):\n    return x\n"
# BAD trips FR101/FR102 and the flake8 test adds FR401: all off by default, so each project turns them on
CONFIG = '[tool.fastapi-review]\nextend-select = ["FR101", "FR102", "FR401"]\n'
README = (ROOT / "README.md").read_text(encoding="utf-8")




def readme_block(marker: str) -> str:
    """The code block right after `<!-- marker -->` in the README (the snippet users copy)."""
    after = README.split(f"<!-- {marker} -->", 1)[1]
    return after.split("```", 2)[1].split("\n", 1)[1]


def test_sarif_validates_against_the_official_schema(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(CONFIG)
    (tmp_path / "a.py").write_text(BAD)
    result = run(["--format", "sarif", "a.py"], tmp_path)
    log = json.loads(result.stdout)
    schema = json.loads((ROOT / "tests" / "data" / "sarif-schema-2.1.0.json").read_text())
    jsonschema.validate(log, schema)
    rules = log["runs"][0]["tool"]["driver"]["rules"]
    assert {r["id"] for r in rules} >= {"FR101", "FR401"}
    assert all(r["helpUri"].endswith(f"rules/{r['id']}.md") for r in rules)
    results = log["runs"][0]["results"]
    assert [(r["ruleId"], r["locations"][0]["physicalLocation"]["region"]["startLine"]) for r in results] == [
        ("FR102", 1), ("FR101", 1),
    ]


def test_github_annotations_and_json_lines(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(CONFIG)
    (tmp_path / "a.py").write_text(BAD)
    github = run(["--format", "github", "a.py"], tmp_path).stdout.splitlines()
    assert github[0].startswith("::warning file=a.py,line=1,col=5,endLine=1,endColumn=6,title=FR102 missing-return-annotation::FR102 ")
    lines = run(["--format", "json-lines", "a.py"], tmp_path).stdout.splitlines()
    assert [json.loads(line)["code"] for line in lines] == ["FR102", "FR101"]


def test_show_source(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text(BAD)
    out = run(["--show-source", "-q", "--select", "FR101", "a.py"], tmp_path).stdout
    assert out == "a.py:1:7: FR101 parameter 'x' of 'f' has no type annotation; annotate every parameter\n    def f(x):\n          ^\n"


def test_stdin_with_filename_uses_config_and_per_file_ignores(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(CONFIG + '[tool.fastapi-review.per-file-ignores]\n"jobs/**" = ["FR102"]\n')
    (tmp_path / "jobs").mkdir()
    result = run(["-", "--stdin-filename", "jobs/job.py", "-q"], tmp_path, stdin=BAD)
    assert result.exit_code == 1
    assert result.stdout.splitlines() == ["jobs/job.py:1:7: FR101 parameter 'x' of 'f' has no type annotation; annotate every parameter"]
    assert run(["-", "a.py"], tmp_path, stdin=BAD).exit_code == 2


def test_baseline_reports_only_new_findings_and_survives_line_shifts(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(CONFIG)
    (tmp_path / "a.py").write_text(BAD)
    assert run(["--write-baseline", "baseline.json", "."], tmp_path).exit_code == 0
    assert run(["--baseline", "baseline.json", "."], tmp_path).exit_code == 0
    # shift the old code down and add a new mistake above it
    (tmp_path / "a.py").write_text("import os\n\n\ndef g(y):\n    return y\n\n\n" + BAD)
    out = run(["--baseline", "baseline.json", "-q", "."], tmp_path).stdout.splitlines()
    assert [line.split(": ")[0] for line in out] == ["a.py:4:5", "a.py:4:7"]
    # a second copy of a baselined mistake is new
    (tmp_path / "b.py").write_text(BAD)
    assert len(run(["--baseline", "baseline.json", "-q", "."], tmp_path).stdout.splitlines()) == 4
    (tmp_path / "bad.json").write_text("{")
    result = run(["--baseline", "bad.json", "."], tmp_path)
    assert result.exit_code == 2 and "not a fastapi-review baseline" in result.stderr


def test_flake8_plugin_reports_the_same_codes(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(CONFIG)
    (tmp_path / "a.py").write_text(BAD + "from sqlalchemy import text\n\n\nasync def q(session: object, n: str) -> None:\n    await session.execute(text(f'SELECT * FROM t WHERE n = {n}'))\n")
    command = readme_block("flake8-command").strip().split()
    assert command[:3] == ["flake8", "--select", "FR"]
    flake8 = subprocess.run([sys.executable, "-m", *command[:3], "a.py"], cwd=tmp_path, capture_output=True, text=True)
    ours = run(["-q", "a.py"], tmp_path).stdout
    assert flake8.returncode == 1
    assert [l.split(" ")[1] for l in flake8.stdout.splitlines()] == ["FR102", "FR101", "FR401"]
    assert [l.split(" ")[0] for l in flake8.stdout.splitlines()] == [l.split(" ")[0] for l in ours.splitlines()]


@pytest.mark.skipif(shutil.which("git") is None, reason="pre-commit needs git")
def test_pre_commit_hook(tmp_path: Path) -> None:
    """The README's hook, run by real pre-commit (repo: local, so no network is needed)."""
    repo = tmp_path / "repo"
    repo.mkdir()
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@t", "PRE_COMMIT_HOME": str(tmp_path / "cache")}
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
    hooks = ROOT / ".pre-commit-hooks.yaml"
    hook = hooks.read_text().split("\n", 1)[1]  # the hook definition users get from the repo
    assert "entry: fastapi-review" in hook and "require_serial: true" in hook
    config = readme_block("pre-commit-local")
    (repo / ".pre-commit-config.yaml").write_text(config)
    (repo / "app.py").write_text(BAD)
    # pre-commit names every file; extend-exclude must still hold (the hook runs --force-exclude)
    (repo / "pyproject.toml").write_text(CONFIG + 'extend-exclude = ["generated/"]\n')
    (repo / "generated").mkdir()
    (repo / "generated" / "client.py").write_text(BAD)
    subprocess.run(["git", "init", "-q"], cwd=repo, check=True, env=env)
    subprocess.run(["git", "add", "."], cwd=repo, check=True, env=env)
    result = subprocess.run(
        [sys.executable, "-m", "pre_commit", "run", "--all-files"], cwd=repo, capture_output=True, text=True, env=env
    )
    assert result.returncode == 1, result.stdout + result.stderr
    assert "app.py:1:5: FR102" in result.stdout
    assert "generated/client.py" not in result.stdout
    (repo / "app.py").write_text("def f(x: int) -> int:\n    return x\n")
    result = subprocess.run(
        [sys.executable, "-m", "pre_commit", "run", "--all-files"], cwd=repo, capture_output=True, text=True, env=env
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_github_actions_snippet_commands(tmp_path: Path) -> None:
    """The README workflow's commands: SARIF to a file without failing, then annotations."""
    (tmp_path / "pyproject.toml").write_text(CONFIG)
    (tmp_path / "a.py").write_text(BAD)
    workflow = readme_block("github-actions")
    commands = [line.strip()[len("- run: "):] for line in workflow.splitlines() if line.strip().startswith("- run: fastapi-review")]
    assert len(commands) == 2
    sarif = run(commands[0].split()[1:], tmp_path)
    assert sarif.exit_code == 0
    log = json.loads((tmp_path / "fastapi-review.sarif").read_text())
    jsonschema.validate(log, json.loads((ROOT / "tests" / "data" / "sarif-schema-2.1.0.json").read_text()))
    annotate = run(commands[1].split()[1:], tmp_path)
    assert annotate.exit_code == 1 and annotate.stdout.startswith("::warning file=a.py")


def test_gitlab_snippet_commands(tmp_path: Path) -> None:
    """The README job's commands write the reports its `artifacts:reports` name."""
    import yaml

    (tmp_path / "pyproject.toml").write_text(CONFIG)
    (tmp_path / "a.py").write_text(BAD)
    job = yaml.safe_load(readme_block("gitlab-ci"))["fastapi-review"]
    script = [line for line in job["script"] if line.startswith("fastapi-review")]
    assert run(script[0].split()[1:], tmp_path).exit_code == 0
    report = json.loads((tmp_path / job["artifacts"]["reports"]["codequality"]).read_text())
    jsonschema.validate(report, json.loads((ROOT / "tests" / "data" / "gitlab-code-quality-schema.json").read_text()))
    assert [issue["check_name"] for issue in report] == ["FR102", "FR101"]
    assert run(script[1].split()[1:], tmp_path).exit_code == 1
    assert "fastapi-review.FR101" in (tmp_path / job["artifacts"]["reports"]["junit"]).read_text()


def test_vscode_snippet_selects_fr() -> None:
    assert json.loads(readme_block("vscode")) == {"flake8.args": ["--select=FR"]}


@pytest.mark.skipif(shutil.which("git") is None or not (ROOT / ".git").exists(), reason="try-repo needs git and the checkout")
def test_published_hook_with_pre_commit_try_repo(tmp_path: Path) -> None:
    """The repository's .pre-commit-hooks.yaml at the README's pinned revision, installed by real
    pre-commit from this checkout (the same clone-and-install pre-commit does from GitHub)."""
    repo = tmp_path / "repo"
    repo.mkdir()
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@t", "PRE_COMMIT_HOME": str(tmp_path / "cache")}
    remote = readme_block("pre-commit-remote")
    assert "id: fastapi-review" in remote
    revision = remote.split("rev: ", 1)[1].split("\n", 1)[0]  # the pinned revision (tests/test_readme.py)
    (repo / "app.py").write_text(BAD)
    # pre-commit names every file; extend-exclude must still hold (the hook runs --force-exclude)
    (repo / "pyproject.toml").write_text(CONFIG + 'extend-exclude = ["generated/"]\n')
    (repo / "generated").mkdir()
    (repo / "generated" / "client.py").write_text(BAD)
    subprocess.run(["git", "init", "-q"], cwd=repo, check=True, env=env)
    subprocess.run(["git", "add", "."], cwd=repo, check=True, env=env)
    result = subprocess.run(
        [sys.executable, "-m", "pre_commit", "try-repo", str(ROOT), "fastapi-review", "--ref", revision, "--all-files"],
        cwd=repo, capture_output=True, text=True, env=env, timeout=600,
    )
    assert result.returncode == 1, result.stdout + result.stderr
    assert "app.py:1:7: FR101" in result.stdout
    assert "generated/client.py" not in result.stdout


def _ci_project(root: Path) -> Path:
    root.mkdir(exist_ok=True)
    (root / "pyproject.toml").write_text(CONFIG)
    for number in range(6):  # a typed project (its learned convention) with one untyped file
        (root / f"m{number}.py").write_text("def f(x: int) -> int:\n    return x\n" * (number + 1))
    (root / "m3.py").write_text(BAD)
    return root


def _shell(command: str, cwd: Path, **variables: str) -> "subprocess.CompletedProcess[str]":
    env = {**os.environ, **variables, "PATH": str(Path(sys.executable).parent) + os.pathsep + os.environ.get("PATH", "")}
    env.pop("GITHUB_STEP_SUMMARY", None)
    return subprocess.run(["bash", "-c", command], cwd=cwd, env=env, capture_output=True, text=True)


def test_github_actions_cache_snippet_keys_on_the_version(tmp_path: Path) -> None:
    import yaml

    from fastapi_review import __version__

    steps = yaml.safe_load(readme_block("github-actions-cache"))["jobs"]["review"]["steps"]
    version_step = next(s for s in steps if s.get("id") == "tool")
    output = _shell(version_step["run"], tmp_path, GITHUB_OUTPUT=str(tmp_path / "out"))
    assert output.returncode == 0 and (tmp_path / "out").read_text() == f"version={__version__}\n"
    cache = next(s for s in steps if s.get("uses", "").startswith("actions/cache"))
    assert cache["with"]["path"] == ".fastapi_review_cache" and "steps.tool.outputs.version" in cache["with"]["key"]


def test_github_actions_shard_matrix_gives_the_findings_of_one_run(tmp_path: Path) -> None:
    """The README's matrix: each shard's commands, the artifacts downloaded into one directory
    (merge-multiple), the report job's command — the same annotations as one plain run."""
    import yaml

    workflow = yaml.safe_load(readme_block("github-actions-shards"))["jobs"]
    shards = workflow["shard"]["strategy"]["matrix"]["shard"]
    root = _ci_project(tmp_path / "checkout")
    command = next(s["run"] for s in workflow["shard"]["steps"] if "--shard" in s.get("run", ""))
    upload = next(s["with"] for s in workflow["shard"]["steps"] if s.get("uses", "").startswith("actions/upload-artifact"))
    download = next(s["with"] for s in workflow["report"]["steps"] if s.get("uses", "").startswith("actions/download-artifact"))
    for shard in shards:
        runner = tmp_path / f"runner{shard}"
        shutil.copytree(root, runner)
        assert _shell(command.replace("${{ matrix.shard }}", str(shard)), runner).returncode == 0
        shutil.copytree(runner / upload["path"], root / download["path"], dirs_exist_ok=True)
    report = _shell(workflow["report"]["steps"][-1]["run"], root)
    plain = _shell("fastapi-review --format github --no-cache .", root)
    assert report.returncode == plain.returncode == 1
    assert report.stdout == plain.stdout and [line.split(",")[0] for line in report.stdout.splitlines()] == ["::warning file=m3.py"] * 2


def test_gitlab_shard_jobs_give_the_findings_of_one_run(tmp_path: Path) -> None:
    import yaml

    jobs = yaml.safe_load(readme_block("gitlab-ci-cache"))
    shard_job, report_job = jobs["fastapi-review-shard"], jobs["fastapi-review"]
    root = _ci_project(tmp_path)
    for index in range(1, shard_job["parallel"] + 1):
        variables = {"CI_NODE_INDEX": str(index), "CI_NODE_TOTAL": str(shard_job["parallel"])}
        for line in shard_job["script"][1:]:  # after `pip install`
            assert _shell(line, root, **variables).returncode == 0
    for line in report_job["script"][1:-1]:
        assert _shell(line, root).returncode == 0
    report = _shell(report_job["script"][-1], root)
    plain = _shell("fastapi-review --no-cache .", root)
    assert report.returncode == plain.returncode == 1 and report.stdout == plain.stdout != ""
