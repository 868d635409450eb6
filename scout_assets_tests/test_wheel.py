"""The wheel runs on its own: built from this checkout, installed into a fresh virtual
environment and started from another folder, `scout run` builds a generated Drive into a
warehouse with the SQL and the instance configuration it carries inside the package.

Offline: the wheel is built from uv's cache (the build backend `make install` fetched), and the
fresh environment borrows the already-installed dependencies from the project's environment
(a ``.pth`` line, which does not process that environment's editable install of this project).
"""

from __future__ import annotations

import os
import shutil
import site
import subprocess
import sys
import zipfile
from pathlib import Path

import duckdb
import pytest

from scout_assets.sql_files import deploy_text

REPO = Path(__file__).resolve().parents[1]
PACKAGE = REPO / "scout_assets"


def uv() -> str:
    """uv as `make install` left it: on PATH, or bootstrapped into .tools/."""
    found = shutil.which("uv") or next(
        (str(p) for p in (REPO / ".tools/bin/uv", Path(sys.executable).with_name("uv"))
         if p.is_file()), None)  # fmt: skip
    if found is None:
        pytest.fail("uv not found on PATH nor in .tools/bin: run `make install`")
    return found


def run(command: list[str], **kwargs) -> subprocess.CompletedProcess:
    result = subprocess.run(command, capture_output=True, text=True, timeout=600, **kwargs)
    assert result.returncode == 0, f"{' '.join(command)}\n{result.stdout}\n{result.stderr}"
    return result


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    run([uv(), "build", "--wheel", "--offline", "--out-dir", str(out), str(REPO)], cwd=REPO)
    (built,) = out.glob("scout_pipelines-*.whl")
    return built


def test_the_wheel_carries_every_sql_file_and_the_instance_configs(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    shipped = {p.relative_to(REPO).as_posix() for p in (PACKAGE / "sql").rglob("*.sql")}
    assert shipped and shipped <= names, sorted(shipped - names)[:5]
    assert {"scout_assets/deploy/local/dagster.yaml",
            "scout_assets/deploy/production/dagster.yaml"} <= names  # fmt: skip
    assert any(n.startswith("scout_assets/reference_data/") for n in names)


def test_scout_run_from_the_installed_wheel_builds_the_months(wheel, tmp_path):
    venv = tmp_path / "venv"
    run([uv(), "venv", "--offline", "--python", sys.executable, str(venv)])
    python, scout = venv / "bin/python", venv / "bin/scout"
    site_packages = Path(run([str(python), "-c", "import site; print(site.getsitepackages()[0])"])
                         .stdout.strip())  # fmt: skip
    (site_packages / "project_dependencies.pth").write_text(site.getsitepackages()[0] + "\n")
    run([uv(), "pip", "install", "--offline", "--no-deps", "--python", str(python), str(wheel)])

    env = {k: v for k, v in os.environ.items() if not k.startswith(("SCOUT_", "PYTHON"))}
    env |= {"DAGSTER_HOME": str(tmp_path / "home"), "SCOUT_PROGRESS": "0"}
    imported = run([str(python), "-c", "import scout_assets; print(scout_assets.__file__)"],
                   cwd=tmp_path, env=env).stdout  # fmt: skip
    assert imported.startswith(str(site_packages)), imported  # the wheel's, not this checkout's

    run([str(scout), "generate", "drive", "--transactions", "300", "--months", "2",
         "--stores", "8"], cwd=tmp_path, env=env)  # fmt: skip
    result = run([str(scout), "run", "--drive-dir", "drive", "--warehouse", "w.duckdb"],
                 cwd=tmp_path, env=env)  # fmt: skip

    assert "Months rebuilt: 2 " in result.stdout, result.stdout
    with duckdb.connect(str(tmp_path / "w.duckdb"), read_only=True) as con:
        months = con.execute("select count(distinct txn_month), count(*) "
                             "from dbo.v_transactions_flat_production").fetchone()  # fmt: skip
    assert months[0] == 2 and months[1] > 250
    assert (tmp_path / "home/dagster.yaml").read_text() == deploy_text("local/dagster.yaml")

    # The installed package is not a checkout: `scout ddl` checks, never rewrites it.
    refused = subprocess.run([str(scout), "ddl"], cwd=tmp_path, env=env, capture_output=True,
                             text=True)  # fmt: skip
    assert refused.returncode == 1 and "an installed package is not rewritten" in refused.stderr
    assert run([str(scout), "ddl", "--check"], cwd=tmp_path, env=env).stdout.strip() == (
        "target DDL is up to date"
    )
