"""The warehouse's documentation site: ``python -m orchestration.warehouse_docs`` (``make docs``).

Runs ``dbt docs generate --static`` against the current warehouse (every model and column with its
description, the lineage graph and the catalog's types and row counts, in one self-contained HTML file)
and puts it on the report shelf as ``<reports>/warehouse_docs/index.html``.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from orchestration.dbt_runner import dbt_executable, export_dbt_environment
from orchestration.settings import DBT_PROJECT_DIR, load_settings


def docs_path(reports_dir: Path) -> Path:
    return reports_dir / "warehouse_docs" / "index.html"


def generate(reports_dir: Path) -> Path:
    target = DBT_PROJECT_DIR / "target"
    subprocess.run(
        [dbt_executable(), "docs", "generate", "--static", "--quiet", "--profiles-dir", "."],
        cwd=DBT_PROJECT_DIR,
        check=True,
    )
    site = docs_path(reports_dir)
    site.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(target / "static_index.html", site)
    return site


def main() -> int:
    settings = load_settings()
    export_dbt_environment(settings)
    try:
        site = generate(settings.reports_dir)
    except subprocess.CalledProcessError as failure:
        print(f"dbt docs generate failed (exit {failure.returncode})", file=sys.stderr)
        return 1
    print(f"Warehouse documentation: {site.resolve().as_uri()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
