"""Command line: `fastapi-review [PATHS]`, `fastapi-review rules`, `fastapi-review rule CODE`."""

from __future__ import annotations

import dataclasses
import json
import os
import signal
import sys
import threading
import time
import traceback
from pathlib import Path
from typing import Any, Optional

import click

from fastapi_review import __version__
from fastapi_review.config import Config, ConfigError, load_config
from fastapi_review.discovery import DiscoveryError
from fastapi_review.output import FORMATTERS, REVIEW_FORMATTERS, SOURCE_FORMATS
from fastapi_review.output.text import format_statistics, format_text

EXIT_CLEAN, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2
# 128 + the signal's number, as shells report a process a signal stopped
EXIT_INTERRUPTED, EXIT_TERMINATED = 128 + signal.SIGINT, 128 + signal.SIGTERM
TRACEBACK_VARIABLE = "FASTAPI_REVIEW_TRACEBACK"
STEP_SUMMARY_VARIABLE = "GITHUB_STEP_SUMMARY"  # GitHub Actions' job summary file
OUTPUT_FORMAT_VARIABLE = "FASTAPI_REVIEW_OUTPUT_FORMAT"  # as ruff's RUFF_OUTPUT_FORMAT
BUG_REPORT = "https://github.com/fastapi-review/fastapi-review/issues"


class _Terminated(KeyboardInterrupt):
    """SIGTERM, raised in the main thread like Ctrl-C's KeyboardInterrupt."""


def _on_sigterm(signum: int, frame: object) -> None:
    raise _Terminated


class _DefaultGroup(click.Group):
    """A group whose default command is `check`, so `fastapi-review app/` checks `app/`.

    Every command runs under the same rules: Ctrl-C (exit 130) and SIGTERM (exit 143) stop the
    run at once; a crash of fastapi-review itself prints one line asking for a report (the
    traceback with --verbose or FASTAPI_REVIEW_TRACEBACK=1) and exits 2.
    """

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if not args or args[0] not in self.commands:
            if not any(a in ("--help", "-h") for a in args[:1]) and not (args and args[0] == "--version"):
                args = ["check", *args]
        return super().parse_args(ctx, args)

    def format_usage(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """`check` is the default command: its usage comes first."""
        formatter.write_usage(ctx.command_path, "[OPTIONS] [PATHS]...")
        formatter.write_usage(ctx.command_path, "COMMAND [ARGS]...", prefix="       ")

    def format_options(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """The default command's options first (they are what `fastapi-review [OPTIONS]` takes),
        then the group's own options and the commands."""
        check_command = self.commands["check"]
        options = [p for p in check_command.get_params(ctx) if isinstance(p, click.Option) and not p.is_eager]
        records = [r for r in (p.get_help_record(ctx) for p in options) if r is not None]
        with formatter.section("Options (of check, the default command)"):
            formatter.write_dl(records)
        super().format_options(ctx, formatter)

    def invoke(self, ctx: click.Context) -> Any:
        previous = None
        if threading_is_main():
            previous = signal.signal(signal.SIGTERM, _on_sigterm)
        try:
            return super().invoke(ctx)
        except KeyboardInterrupt as interrupt:
            _stop_now(EXIT_TERMINATED if isinstance(interrupt, _Terminated) else EXIT_INTERRUPTED)
        except (click.exceptions.ClickException, click.exceptions.Exit, click.exceptions.Abort):
            raise
        except Exception as error:  # noqa: BLE001 - a bug of ours: one line, exit 2, no traceback
            _crashed(error)
        finally:
            if previous is not None:
                signal.signal(signal.SIGTERM, previous)


def threading_is_main() -> bool:
    """Signal handlers can only be installed from the main thread."""
    return threading.current_thread() is threading.main_thread()


_open_caches: list[Any] = []
_verbose = False


def _stop_now(code: int) -> None:
    """An interrupted run: write no more cache entries, say so, and exit at once (the thread
    checking a file is a daemon; waiting for it is what made Ctrl-C slow)."""
    for cache in _open_caches:
        cache.abandon()
    try:
        sys.stdout.flush()
    except (OSError, ValueError):
        pass
    try:
        click.echo("fastapi-review: interrupted", err=True)
        sys.stderr.flush()
    except (OSError, ValueError):
        pass
    os._exit(code)


def _crashed(error: Exception) -> None:
    """A crash of fastapi-review itself: one line (the traceback on request), exit 2."""
    if _verbose or os.environ.get(TRACEBACK_VARIABLE, "") not in ("", "0"):
        traceback.print_exception(type(error), error, error.__traceback__, file=sys.stderr)
    reason = f"{type(error).__name__}: {error}".replace("\n", " ")[:300]
    click.echo(
        f"fastapi-review: internal error ({reason}); please report it at {BUG_REPORT} "
        f"(rerun with --verbose or {TRACEBACK_VARIABLE}=1 for the traceback)",
        err=True,
    )
    sys.exit(EXIT_ERROR)



def _split_codes(values: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(code.strip() for value in values for code in value.split(",") if code.strip())


@click.group(cls=_DefaultGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", prog_name="fastapi-review")
def main() -> None:
    """Review FastAPI / SQLAlchemy 2 / Pydantic v2 code.

    `fastapi-review [OPTIONS] [PATHS]...` checks PATHS (default: the current directory; '-'
    reads stdin): `check` is the default command, and its options are listed first.
    """


@main.command()
@click.argument("paths", nargs=-1, type=click.Path())
@click.option("--select", multiple=True, help="Rule codes or prefixes to enable (replaces the default set); ALL for every rule.")
@click.option("--extend-select", multiple=True, help="Rule codes or prefixes to enable on top of the selection.")
@click.option("--ignore", multiple=True, help="Rule codes or prefixes to disable.")
@click.option(
    "--output-format", "--format", "output_format", type=click.Choice(sorted({*FORMATTERS, *SOURCE_FORMATS, *REVIEW_FORMATTERS})),
    default="text", show_default=True, envvar=OUTPUT_FORMAT_VARIABLE, show_envvar=True,
    help="How to print the findings (markdown and html: a review with the checklist and the next agent to invoke).",
)
@click.option(
    "--step-summary/--no-step-summary", default=True, show_default=True,
    help="With --format github in GitHub Actions (GITHUB_STEP_SUMMARY set): also write the markdown review to the job summary.",
)
@click.option("--diff-base", metavar="REF", help="Report only findings on lines changed since REF (git: since the merge base of REF and HEAD, uncommitted and untracked files included).")
@click.option("--output-file", "-o", type=click.Path(dir_okay=False, writable=True), help="Write the report here instead of stdout.")
@click.option("--exit-zero", "-e", is_flag=True, help="Exit 0 even when there are findings.")
@click.option("--statistics", is_flag=True, help="Print the number of findings per rule after the report.")
@click.option("--config", "config_path", type=click.Path(dir_okay=False), help="Use this pyproject.toml instead of searching for one.")
@click.option("--isolated", is_flag=True, help="Ignore every configuration file.")
@click.option("--quiet", "-q", is_flag=True, help="Print findings only, no summary line.")
@click.option("--silent", "-s", is_flag=True, help="Print nothing but errors (not even the findings); the exit code still says whether there are findings.")
@click.option("--show-source", is_flag=True, help="Text format: print the source line and a caret under each finding.")
@click.option("--stdin-filename", type=click.Path(dir_okay=False), help="With '-': the path the source on stdin stands for (config, per-file ignores, output).")
@click.option("--baseline", "baseline_path", type=click.Path(dir_okay=False), help="Report only findings not recorded in this baseline file.")
@click.option("--write-baseline", "write_baseline_path", type=click.Path(dir_okay=False), help="Record the current findings in this baseline file (and exit 0).")
@click.option("--jobs", "-j", type=click.IntRange(min=1), default=None, help="Processes for the per-file phase (default: all cores).")
@click.option("--no-cache", "-n", is_flag=True, help="Neither read nor write the cache.")
@click.option("--cache-dir", type=click.Path(file_okay=False), default=None, help="Where the cache lives (default: .fastapi_review_cache/ in the project directory).")
@click.option(
    "--shard", metavar="K/N", callback=lambda ctx, param, value: _shard(value),
    help="Check only the K-th of N size-balanced parts of the files into the cache and report nothing (a CI matrix job); a run over the merged caches then reports.",
)
@click.option("--fix", is_flag=True, help="Apply the safe fixes, then report the findings that remain.")
@click.option("--unsafe-fixes", is_flag=True, help="With --fix / --diff: apply the unsafe fixes too (they may change behaviour).")
@click.option("--diff", is_flag=True, help="Print the fixes as a unified diff and write nothing (exit 1 when there is a diff).")
@click.option("--add-noqa", is_flag=True, help="Add a '# noqa: CODES' to every line with findings (extending its '# noqa:'), then exit.")
@click.option(
    "--force-exclude/--no-force-exclude", default=None,
    help="Apply exclude / extend-exclude to files named on the command line (and --stdin-filename) too; pre-commit's hook uses it.",
)
@click.option("--exclude", multiple=True, metavar="GLOBS", help="Globs to leave out, replacing `exclude` and the default excludes (comma-separated, repeatable).")
@click.option("--extend-exclude", multiple=True, metavar="GLOBS", help="Globs to leave out on top of `exclude` (comma-separated, repeatable).")
@click.option(
    "--respect-gitignore/--no-respect-gitignore", default=None,
    help="Leave out the files .gitignore and .git/info/exclude ignore (default: yes; overrides respect-gitignore).",
)
@click.option("--show-settings", is_flag=True, help="Print the settings the run would use and exit.")
@click.option("--show-files", is_flag=True, help="Print the files the run would check and exit.")
@click.option("--verbose", "-v", is_flag=True, help="Say which configuration is used and how long the check took; on an internal error, print its traceback too.")
def check(
    paths: tuple[str, ...],
    select: tuple[str, ...],
    extend_select: tuple[str, ...],
    ignore: tuple[str, ...],
    output_format: str,
    step_summary: bool,
    diff_base: Optional[str],
    output_file: Optional[str],
    exit_zero: bool,
    statistics: bool,
    config_path: Optional[str],
    isolated: bool,
    quiet: bool,
    show_source: bool,
    stdin_filename: Optional[str],
    baseline_path: Optional[str],
    write_baseline_path: Optional[str],
    jobs: Optional[int],
    no_cache: bool,
    cache_dir: Optional[str],
    shard: Optional[tuple[int, int]],
    fix: bool,
    unsafe_fixes: bool,
    diff: bool,
    add_noqa: bool,
    force_exclude: Optional[bool],
    silent: bool,
    exclude: tuple[str, ...],
    extend_exclude: tuple[str, ...],
    respect_gitignore: Optional[bool],
    show_settings: bool,
    show_files: bool,
    verbose: bool,
) -> None:
    """Check PATHS (default: the current directory; '-' reads one file from stdin)."""
    global _verbose
    _verbose = verbose
    quiet = quiet or silent
    started = time.perf_counter()
    from fastapi_review.baseline import (
        BaselineError,
        filter_new,
        read_baseline,
        write_baseline,
    )
    from fastapi_review.changes import ChangesError
    from fastapi_review.checker import Report, check_paths, check_text
    from fastapi_review.discovery import decode_source
    from fastapi_review.parallel import default_jobs

    if stdin_filename and not paths:
        paths = ("-",)  # as ruff: --stdin-filename alone reads the source from stdin
    targets = paths or (".",)
    stdin_mode = "-" in targets
    if stdin_mode and len(targets) > 1:
        click.echo("fastapi-review: error: '-' (stdin) cannot be combined with other paths", err=True)
        sys.exit(EXIT_ERROR)
    if stdin_filename and not stdin_mode:
        click.echo("fastapi-review: error: --stdin-filename names the source read from stdin: give it without paths (or with '-')", err=True)
        sys.exit(EXIT_ERROR)
    if shard is not None and (stdin_mode or no_cache or fix or diff):
        click.echo("fastapi-review: error: --shard fills the cache with a part of the files: it cannot be combined with '-', --no-cache, --fix or --diff", err=True)
        sys.exit(EXIT_ERROR)
    stdin_text: Optional[str] = None
    stdin_data: Optional[bytes] = None
    fix_run = None
    unwritten = False
    try:
        start = Path(stdin_filename) if stdin_mode and stdin_filename else Path(targets[0] if not stdin_mode else ".")
        config = _with_options(
            _load(config_path, isolated, start), select, extend_select, ignore, exclude, extend_exclude,
            force_exclude, respect_gitignore,
        )
        if verbose:
            click.echo(f"fastapi-review: configuration: {config.source or 'none (defaults)'}; project directory: {config.root}", err=True)
        if show_settings or show_files:
            _show(config, targets, stdin_filename if stdin_mode else None, show_settings, output_format)
            sys.exit(EXIT_CLEAN)
        cache = None if no_cache else _cache(config, cache_dir)
        workers = jobs or default_jobs()
        if add_noqa:
            _add_noqa(targets, config, workers, cache, stdin_mode or fix or diff, quiet)
        if fix or diff:
            from fastapi_review.fixes import fix_paths, fix_source

            data = sys.stdin.buffer.read() if stdin_mode else b""
            if stdin_mode:
                fix_run = fix_source(data, stdin_filename or "stdin.py", config, unsafe=unsafe_fixes)
            else:
                fix_run = fix_paths(targets, config, unsafe=unsafe_fixes, jobs=workers, cache=cache)
            if diff or stdin_mode:
                _finish_fix_output(fix_run, diff, quiet, data)
            unwritten = _write_fixes(fix_run, quiet)  # a file not written keeps its findings
            report = fix_run.report
        elif stdin_mode:
            data = stdin_data = sys.stdin.buffer.read()
            stdin_text = decode_source(data)
            missing: list[Any] = []
            findings = check_text(data, stdin_filename or "stdin.py", config, cache=cache, missing=missing)
            report = Report(findings, files_checked=1, context_missing=len(missing))
        else:
            show_progress = output_format == "text" and not quiet and not output_file and sys.stderr.isatty()
            progress = _ProgressBar() if show_progress else None
            try:
                report = check_paths(targets, config, jobs=workers, cache=cache, progress=progress, shard=shard)
            finally:
                if progress is not None:
                    progress.close()
            if shard is not None:
                for problem in report.problems:
                    if problem.error:
                        click.echo(f"fastapi-review: error: {problem}", err=True)
                click.echo(f"Shard {shard[0]}/{shard[1]}: {_counted(report.files_checked, 'file')} checked into {cache.directory}.", err=True)
                sys.exit(EXIT_ERROR if any(p.error for p in report.problems) else EXIT_CLEAN)
        if report.context_missing and cache is not None:
            from fastapi_review.checker import index_in_background

            # the project's facts come on the next run: never a cold check of it in the foreground
            index_in_background(start, config, cache)
        findings = report.findings

        def source_of(path: str) -> Optional[str]:
            if stdin_text is not None:
                return stdin_text
            try:
                return decode_source(Path(path).read_bytes())
            except OSError:
                return None

        if write_baseline_path:
            write_baseline(Path(write_baseline_path), findings, config.root, source_of)
            if not quiet:
                click.echo(f"Wrote {len(findings)} finding(s) to the baseline {write_baseline_path}.", err=True)
            sys.exit(EXIT_CLEAN)
        if baseline_path:
            findings = filter_new(findings, read_baseline(Path(baseline_path)), config.root, source_of)
        changes = None
        if diff_base is not None:
            from fastapi_review.changes import changes_since

            changes = changes_since(diff_base, Path(stdin_filename if stdin_mode and stdin_filename else targets[0]).absolute())
            findings = [f for f in findings if changes.touches(f)]
    except (ConfigError, DiscoveryError, BaselineError, ChangesError) as exc:
        click.echo(f"fastapi-review: error: {exc}", err=True)
        sys.exit(EXIT_ERROR)
    problems = report.problems
    report = Report(findings, report.files_checked)
    shown_paths = (stdin_filename or "stdin.py",) if stdin_mode else targets
    for problem in problems:
        if (problem.file or silent) and not problem.error:
            continue  # a broken file found in a directory: its FR001 finding says it
        click.echo(f"fastapi-review: {'error' if problem.error else 'warning'}: {problem}", err=True)

    if show_source and output_format == "text":
        from fastapi_review.output.text import format_text_with_source

        output = format_text_with_source(report.findings, source_of, unsafe_fixes)
    elif output_format == "text":
        output = format_text(report.findings, unsafe_fixes)
    elif output_format == "gitlab":
        from fastapi_review.baseline import unique_fingerprints
        from fastapi_review.output.gitlab import format_gitlab

        output = format_gitlab(report.findings, unique_fingerprints(report.findings, config.root, source_of))
    elif output_format == "rdjson":
        from fastapi_review.output.rdjson import format_rdjson

        output = format_rdjson(_with_fix_edits(report.findings, config, stdin_data), source_of)
    elif output_format in ("json", "json-lines"):
        output = FORMATTERS[output_format](_with_fix_edits(report.findings, config, stdin_data))
    elif output_format in REVIEW_FORMATTERS:
        from fastapi_review.output.html import HtmlUnavailable

        review = _review_context(shown_paths, config, report.files_checked, diff_base, changes, source_of)
        try:
            output = REVIEW_FORMATTERS[output_format](report.findings, review)
        except HtmlUnavailable as exc:
            click.echo(f"fastapi-review: error: {exc}", err=True)
            sys.exit(EXIT_ERROR)
    else:
        output = FORMATTERS[output_format](report.findings)
    summary_file = os.environ.get(STEP_SUMMARY_VARIABLE, "")
    if output_format == "github" and step_summary and summary_file:
        from fastapi_review.output.markdown import format_markdown

        review = _review_context(shown_paths, config, report.files_checked, diff_base, changes, source_of)
        try:
            with open(summary_file, "a", encoding="utf-8") as summary:
                summary.write(format_markdown(report.findings, review))
        except OSError as exc:
            click.echo(f"fastapi-review: warning: cannot write the job summary {summary_file}: {exc}", err=True)
    if statistics and output_format == "text":
        output += format_statistics(report.findings, unsafe_fixes)
    if output_file:
        Path(output_file).write_text(output, encoding="utf-8")
    elif not silent:
        click.echo(output, nl=False)
    if not quiet and output_format == "text":
        click.echo(_summary(report.findings, report.files_checked, None if fix_run else unsafe_fixes), err=True)
    if verbose:
        click.echo(f"fastapi-review: checked {_counted(report.files_checked, 'file')} in {time.perf_counter() - started:.2f}s", err=True)
    if any(f.code == "FR002" for f in report.findings):
        sys.exit(EXIT_ERROR)  # a rule crashed: the report is incomplete
    if any(p.error for p in problems) or unwritten:
        sys.exit(EXIT_ERROR)  # a path could not be checked, or a fix could not be written
    sys.exit(EXIT_FINDINGS if report.findings and not exit_zero else EXIT_CLEAN)


def _with_options(
    config: Config,
    select: tuple[str, ...],
    extend_select: tuple[str, ...],
    ignore: tuple[str, ...],
    exclude: tuple[str, ...],
    extend_exclude: tuple[str, ...],
    force_exclude: Optional[bool],
    respect_gitignore: Optional[bool],
) -> Config:
    """The configuration with the command line's settings on top.  As in ruff, `--select`
    starts the selection afresh: the configuration's select, extend-select and ignore no longer
    count (its per-file-ignores do); `--extend-select` / `--ignore` add to whichever holds."""
    from fastapi_review.config import normalize_glob
    from fastapi_review.selection import validate_selectors

    # validated here, so that an unknown code is blamed on the option, not the file
    selected = validate_selectors(_split_codes(select), "--select")
    extended = validate_selectors(_split_codes(extend_select), "--extend-select")
    ignored = validate_selectors(_split_codes(ignore), "--ignore")
    excluded = tuple(normalize_glob(glob) for glob in _split_codes(exclude))
    return dataclasses.replace(
        config,
        select=selected or config.select,
        extend_select=extended if selected else config.extend_select + extended,
        ignore=ignored if selected else config.ignore + ignored,
        exclude=excluded or config.exclude,
        extend_exclude=config.extend_exclude + tuple(normalize_glob(glob) for glob in _split_codes(extend_exclude)),
        force_exclude=config.force_exclude if force_exclude is None else force_exclude,
        respect_gitignore=config.respect_gitignore if respect_gitignore is None else respect_gitignore,
    )


def _show(config: Config, targets: tuple[str, ...], stdin_filename: Optional[str], settings: bool, output_format: str) -> None:
    """`--show-files`: the files a run would check, one a line.  `--show-settings`: the
    effective settings, one `key = value` a line (values written as JSON), and the rules that would run."""
    from fastapi_review.discovery import discover, is_force_excluded, named_file
    from fastapi_review.selection import RuleSet

    if not settings:
        if stdin_filename is not None:
            files = [] if is_force_excluded(named_file(stdin_filename, config), config) else [named_file(stdin_filename, config)]
        else:
            files = discover(targets, config, [])
        for file in files:
            click.echo(file.display)
        return
    enabled = RuleSet.from_config(config).enabled
    click.echo(f"# settings of `fastapi-review {' '.join(targets)}` (configuration: {config.source or 'none, the defaults'})")
    for field in dataclasses.fields(config):
        click.echo(f"{field.name.replace('_', '-')} = {json.dumps(_plain(getattr(config, field.name)))}")
    click.echo(f"output-format = {json.dumps(output_format)}")
    click.echo(f"enabled-rules = {json.dumps(list(enabled))}")


def _plain(value: Any) -> Any:
    """A setting as JSON writes it."""
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, (tuple, list)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    return value


def _with_fix_edits(findings: list[Any], config: Config, stdin_data: Optional[bytes]) -> list[Any]:
    """The findings with their fixes' text edits (the JSON formats print them)."""
    from fastapi_review.fixes import fix_edits

    def data_of(path: str) -> Optional[bytes]:
        if stdin_data is not None:
            return stdin_data
        try:
            return Path(path).read_bytes()
        except OSError:
            return None

    return fix_edits(findings, config, data_of)


def _summary(findings: list[Any], files_checked: int, unsafe_fixes: Optional[bool]) -> str:
    """`Found 78 findings in 13 files (31 files checked).` and, outside fix runs (`unsafe_fixes`
    None), ruff's hint: `[*] 5 fixable with --fix (2 hidden fixes can be enabled with --unsafe-fixes).`"""
    from fastapi_review.output.text import fixable

    checked = _counted(files_checked, "file")
    if not findings:
        return f"All clear: {checked} checked."
    with_findings = _counted(len({f.path for f in findings}), "file")
    summary = f"Found {_counted(len(findings), 'finding')} in {with_findings} ({checked} checked)."
    if unsafe_fixes is None:
        return summary
    count = sum(fixable(f, unsafe_fixes) for f in findings)
    hidden = sum(f.fix is not None and not fixable(f, unsafe_fixes) for f in findings)
    hint = f" ({hidden} hidden fix{'' if hidden == 1 else 'es'} can be enabled with --unsafe-fixes)" if hidden else ""
    if count:
        return f"{summary}\n[*] {count} fixable with --fix{hint}."
    return f"{summary}\nNo fixes available{hint}." if hidden else summary


def _review_context(
    targets: tuple[str, ...], config: Config, files_checked: int, diff_base: Optional[str], changes: Any, source_of: Any
) -> Any:
    """What a review says besides the findings: what was checked, which rules ran, the files
    the change modified (with --diff-base), and the root its links are relative to."""
    from fastapi_review.changes import repository_root
    from fastapi_review.output.review import ReviewContext
    from fastapi_review.selection import RuleSet

    root = changes.root if changes is not None else (repository_root(config.root) or config.root)
    return ReviewContext(
        paths=targets,
        enabled=frozenset(RuleSet.from_config(config).enabled),
        files_checked=files_checked,
        root=root,
        diff_base=diff_base,
        files_modified=None if changes is None else changes.files(targets),
        source_of=source_of,
    )


def _counted(count: int, noun: str) -> str:
    """`1 finding`, `2 findings`."""
    return f"{count} {noun}{'' if count == 1 else 's'}"


def _shard(value: Optional[str]) -> Optional[tuple[int, int]]:
    """`--shard K/N` → (K, N), 1 ≤ K ≤ N."""
    if value is None:
        return None
    number, _, count = value.partition("/")
    if not (number.isdigit() and count.isdigit() and 1 <= int(number) <= int(count)):
        raise click.BadParameter(f"{value!r} is not K/N with 1 <= K <= N (e.g. 1/4)", param_hint="--shard")
    return int(number), int(count)


def _cache(config: Config, cache_dir: Optional[str]) -> Any:
    from fastapi_review.cache import Cache, default_cache_dir

    cache = Cache(Path(cache_dir) if cache_dir else default_cache_dir(config), config)
    _open_caches.append(cache)
    return cache


class _ProgressBar:
    """A bar on stderr for runs of many files (only drawn on a terminal, see `check`)."""

    MIN_FILES = 200  # shorter runs finish before a bar is worth drawing

    def __init__(self) -> None:
        self._bar: Any = None

    def start(self, total: int) -> None:
        """Called once with the number of files of the run."""
        if total >= self.MIN_FILES:
            self._bar = click.progressbar(length=total, label="Checking", file=sys.stderr, show_pos=True)
            self._bar.__enter__()

    def advance(self, count: int) -> None:
        """Called as files finish (cached files all at once)."""
        if self._bar is not None:
            self._bar.update(count)

    def close(self) -> None:
        """Erase nothing, end the bar's line."""
        if self._bar is not None:
            self._bar.__exit__(None, None, None)
            self._bar = None


def _finish_fix_output(run: Any, diff: bool, quiet: bool, stdin: bytes) -> None:
    """`--diff`: print the diffs, write nothing, exit 1 when there is one.  `--fix -`: print the
    fixed source (ruff's behaviour) and the findings left on stderr."""
    from fastapi_review.fixes import unified_diff

    for note in run.notes:
        click.echo(note, err=True)
    if diff:
        for display, (_, before, after) in run.changed.items():
            click.echo(unified_diff(display, before, after), nl=False)
        if not quiet:
            count = run.fixed_count()
            click.echo(f"Would fix {_counted(count, 'finding')}.", err=True)
        sys.exit(EXIT_FINDINGS if run.changed else EXIT_CLEAN)
    sys.stdout.buffer.write(next(iter(run.changed.values()))[2] if run.changed else stdin)
    sys.stdout.flush()
    click.echo(format_text(run.report.findings), err=True, nl=False)
    sys.exit(EXIT_FINDINGS if run.report.findings else EXIT_CLEAN)


def _write_fixes(run: Any, quiet: bool) -> bool:
    """`--fix`: write the fixed files and say what was fixed and what was not; True when a
    file could not be written (its findings stay in the report)."""
    from fastapi_review.fixes import write_changes

    unwritten = write_changes(run)
    for note in run.notes:
        click.echo(note, err=True)
    if not quiet:
        count = run.fixed_count(run.written)
        files = len(run.written)
        click.echo(f"Fixed {_counted(count, 'finding')} in {_counted(files, 'file')}.", err=True)
    return unwritten


def _add_noqa(targets: tuple[str, ...], config: Config, jobs: int, cache: Any, conflict: bool, quiet: bool) -> None:
    """`--add-noqa`: write the directives, say how many were added and which lines could not take
    one; exit 0, or 2 when a file could not be written."""
    from fastapi_review.fixes import add_noqa, write_noqa

    if conflict:
        click.echo("fastapi-review: error: --add-noqa edits the files named: it cannot be combined with --fix, --diff or '-' (stdin)", err=True)
        sys.exit(EXIT_ERROR)
    run = add_noqa(targets, config, jobs=jobs, cache=cache)
    failed = write_noqa(run)
    for note in run.notes:
        click.echo(note, err=True)
    if not quiet:
        click.echo(f"Added {_counted(run.added(), 'noqa directive')}.")
    for problem in run.report.problems:
        if problem.error or not problem.file:
            click.echo(f"fastapi-review: {'error' if problem.error else 'warning'}: {problem}", err=True)
    sys.exit(EXIT_ERROR if failed or any(p.error for p in run.report.problems) else 0)


def _load(config_path: Optional[str], isolated: bool, start: Path) -> Config:
    if isolated:
        return Config(root=Path.cwd().resolve())
    return load_config(Path(config_path) if config_path else None, start)


@main.command("explain")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--config", "config_path", type=click.Path(dir_okay=False), help="Use this pyproject.toml instead of searching for one.")
@click.option("--isolated", is_flag=True, help="Ignore every configuration file.")
@click.option("--output-format", "--format", "output_format", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option("--no-cache", is_flag=True, help="Neither read nor write the cache.")
def explain_file(path: str, config_path: Optional[str], isolated: bool, output_format: str, no_cache: bool) -> None:
    """Show why PATH gets the findings it gets: configuration, file role, library versions,
    dialects, the conventions learned from its project, and the rules that run on it."""
    from fastapi_review.explain import explain, format_explanation

    try:
        config = _load(config_path, isolated, Path(path))
        info = explain(path, config, None if no_cache else _cache(config, None))
    except (ConfigError, OSError) as exc:
        click.echo(f"fastapi-review: error: {exc}", err=True)
        sys.exit(EXIT_ERROR)
    click.echo(json.dumps(info, indent=2) if output_format == "json" else format_explanation(info), nl=output_format == "json")


@main.command("clean")
@click.argument("path", default=".", type=click.Path())
@click.option("--cache-dir", type=click.Path(file_okay=False), default=None, help="The cache to delete (default: the project's .fastapi_review_cache/).")
@click.option("--config", "config_path", type=click.Path(dir_okay=False), help="Use this pyproject.toml instead of searching for one.")
def clean_cache(path: str, cache_dir: Optional[str], config_path: Optional[str]) -> None:
    """Delete the cache of the project around PATH (default: the current directory)."""
    from fastapi_review.cache import clean, default_cache_dir

    try:
        directory = Path(cache_dir) if cache_dir else default_cache_dir(_load(config_path, False, Path(path)))
        removed = clean(directory)
    except (ConfigError, OSError) as exc:
        click.echo(f"fastapi-review: error: {exc}", err=True)
        sys.exit(EXIT_ERROR)
    click.echo(f"Removed {directory}." if removed else f"No cache at {directory}.", err=True)


@main.command("lsp")
def language_server() -> None:
    """Run the language server on stdin/stdout (needs the [lsp] extra)."""
    try:
        from fastapi_review.lsp import run
    except ImportError:
        click.echo(
            "fastapi-review: error: the language server needs pygls (the lsp extra): pip install 'pygls>=2.0', "
            "or pip install '.[lsp]' in a fastapi-review checkout",
            err=True,
        )
        sys.exit(EXIT_ERROR)
    run()


@main.command("rules")
@click.option("--output-format", "--format", "output_format", type=click.Choice(["text", "json"]), default="text", show_default=True)
def list_rules(output_format: str) -> None:
    """List every rule: code, name, default, severity, fix safety."""
    from fastapi_review.rules import ALL_RULES

    rows: list[dict[str, Any]] = [
        {
            "code": r.code,
            "name": r.name,
            "default": "on" if r.default_enabled else "off",
            "severity": r.severity,
            "fix": r.fix_safety,
            "summary": r.summary,
        }
        for r in ALL_RULES
    ]
    if output_format == "json":
        click.echo(json.dumps(rows, indent=2))
        return
    for row in rows:
        fix = row["fix"] or "-"
        click.echo(f"{row['code']}  {row['name']:<36} {row['default']:<4} {row['severity']:<8} {fix:<7} {row['summary']}")


@main.command("rule")
@click.argument("code_or_name")
def show_rule(code_or_name: str) -> None:
    """Print the documentation of one rule (by code or name)."""
    from fastapi_review.docs import rule_doc
    from fastapi_review.selection import rule_by_code_or_name

    rule = rule_by_code_or_name(code_or_name)
    if rule is None:
        from fastapi_review.config import did_you_mean
        from fastapi_review.selection import RULES_BY_CODE

        hint = did_you_mean(code_or_name.upper(), RULES_BY_CODE)
        click.echo(f"fastapi-review: error: unknown rule {code_or_name!r}{hint}", err=True)
        sys.exit(EXIT_ERROR)
    doc = rule_doc(rule.code)
    if doc is None:
        click.echo(f"fastapi-review: error: the documentation of {rule.code} is not installed", err=True)
        sys.exit(EXIT_ERROR)
    click.echo(doc, nl=not doc.endswith("\n"))
