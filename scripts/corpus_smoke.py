"""Corpus smoke run: check real repositories with every rule and report what matters for robustness.

    python scripts/corpus_smoke.py PATH [PATH ...]

For each repository: files checked, findings per rule, the files reported as FR001 (unparsable,
with the reason) and FR002 (internal errors: each one is a bug). Exits 1 when any FR002 was seen.
Fetch the repositories outside this project (never commit their code).
"""

from __future__ import annotations

import sys
import time
from collections import Counter
from pathlib import Path

from fastapi_review.checker import check_paths
from fastapi_review.config import Config


def main() -> None:
    """Run every repository given on the command line."""
    internal_errors = 0
    for repository in sys.argv[1:]:
        root = Path(repository).resolve()
        start = time.perf_counter()
        report = check_paths([str(root)], Config(root=root, select=("ALL",)))
        elapsed = time.perf_counter() - start
        counts = Counter(f.code for f in report.findings)
        print(f"== {repository}: {report.files_checked} files, {len(report.findings)} findings, {elapsed:.1f} s")
        print("   " + " ".join(f"{code}={n}" for code, n in sorted(counts.items())))
        for finding in report.findings:
            if finding.code in ("FR001", "FR002"):
                print(f"   {finding.code} {finding.path}:{finding.line}:{finding.column} {finding.message}")
        internal_errors += counts["FR002"]
    print(f"internal errors: {internal_errors}")
    sys.exit(1 if internal_errors else 0)


if __name__ == "__main__":
    main()
