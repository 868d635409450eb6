"""Reference data: stores, geography, Nielsen taxonomy, the brand map, plausibility limits.

Seeded from the real system's data shipped in ``scout_assets/reference_data`` (see its
PROVENANCE.md) and updated from workbooks dropped in the Drive's ``supplements/`` folder.
Reference tables are small, so they are rebuilt whole from seed + every current supplement;
a content fingerprint per table means an unchanged input writes nothing.

DataFrames are checked against dagster-pandas types as they cross into the warehouse. A
workbook that fails is quarantined with the offending column named, never replaces what it
would update: the last version of that workbook that passed (``audit.SupplementVersions``)
still applies, and the failure is an ERROR verdict (``supplements_valid``) that the alert
sensor sends. A change that alters silver or gold rows queues exactly their months
(``operations/taxonomy.py``, ``operations/reference_changes.py``).
"""

from __future__ import annotations

import hashlib
import io
import re
from dataclasses import dataclass, field

import dagster as dg
import pandas as pd
import pyarrow as pa
from dagster_pandas import PandasColumn, create_dagster_pandas_dataframe_type

from scout_assets.checks import names
from scout_assets.checks.verdicts import ERROR, OK, Verdict, record_verdicts
from scout_assets.constants import REFERENCE_DIR
from scout_assets.nothing_new import record_fingerprint
from scout_assets.operations.reference_changes import (
    queue_reference_changes,
    reference_before_change,
)
from scout_assets.operations.taxonomy import invalidate_after_change, taxonomy_before_change
from scout_assets.resources.drive import DriveFile, DriveSource, sha256_hex
from scout_assets.resources.warehouse import AuditEntry, DuckDBWarehouse
from scout_assets.sql_files import sql_text
from scout_assets.time import manila_now

StoresFrame = create_dagster_pandas_dataframe_type(
    name="StoresFrame",
    description="dbo.Stores: one row per store, with its device and location.",
    columns=[
        PandasColumn.integer_column("StoreID", min_value=1, non_nullable=True, unique=True),
        PandasColumn.string_column("StoreName"),
        PandasColumn.string_column("DeviceID"),
        PandasColumn.string_column("MunicipalityName"),
        PandasColumn.string_column("ProvinceName"),
        PandasColumn.string_column("Region", non_nullable=True),
    ],
)

BrandMapFrame = create_dagster_pandas_dataframe_type(
    name="BrandMapFrame",
    description="Brand -> Nielsen category updates (brand_name, category_id).",
    columns=[
        PandasColumn.string_column("brand_name", non_nullable=True, unique=True),
        PandasColumn.integer_column("category_id", min_value=1, non_nullable=True),
    ],
)

LimitsFrame = create_dagster_pandas_dataframe_type(
    name="LimitsFrame",
    description="Plausibility ceilings (limit_name, pesos): transaction_total, item_line.",
    columns=[
        PandasColumn.categorical_column(
            "limit_name", {"transaction_total", "item_line"}, non_nullable=True
        ),
        PandasColumn.float_column("pesos", min_value=0.01, non_nullable=True),
    ],
)

AliasFrame = create_dagster_pandas_dataframe_type(
    name="AliasFrame",
    description="Brand aliases (brand_slug, alias).",
    columns=[
        PandasColumn.string_column("brand_slug", non_nullable=True),
        PandasColumn.string_column("alias", non_nullable=True),
    ],
)

STORE_COLUMNS = [
    "StoreID", "StoreName", "DeviceID", "BarangayName", "MunicipalityName", "ProvinceName",
    "Region", "GeoLatitude", "GeoLongitude",
]  # fmt: skip


class SupplementError(ValueError):
    """A supplement workbook that cannot be used, with the reason."""


@dataclass
class ReferenceTables:
    """Every reference table as it should stand, plus what was wrong with the supplements."""

    tables: dict[str, pd.DataFrame]
    supplements_loaded: list[tuple[DriveFile, str, bytes]] = field(default_factory=list)
    # (file, sha256 or None when unreadable, why)
    supplements_rejected: list[tuple[DriveFile, str | None, str]] = field(default_factory=list)
    # path -> the last good version's sha256, applied in place of a rejected workbook
    kept_versions: dict[str, str] = field(default_factory=dict)


def _seed(name: str) -> pd.DataFrame:
    return pd.read_csv(REFERENCE_DIR / name, keep_default_na=True)


def _checked(frame_type: dg.DagsterType, frame: pd.DataFrame, origin: str) -> pd.DataFrame:
    # The type's own check function: dg.check_dagster_type would build a throwaway Dagster
    # instance per call (seconds), and the pandas check never reads its context.
    result = frame_type.type_check(None, frame)  # type: ignore[arg-type]  # context unread
    if not result.success:
        raise SupplementError(f"{origin}: {_readable(result.description, frame)}")
    return frame


_VIOLATION = re.compile(r'Violated "(?P<rule>\w+)" for column "(?P<column>[^"]+)" - (?P<says>.*?)\.?'
                        r"The offending")  # fmt: skip


def _readable(description: str | None, frame: pd.DataFrame) -> str:
    """dagster-pandas' message with the offending rows as spreadsheet row numbers (its own
    listing can print as "<zip object at 0x...>")."""
    found = _VIOLATION.match(description or "")
    if not found:
        return description or ""
    column, values = found["column"], frame.get(found["column"])
    offending = {
        "NonNullableColumnConstraint": lambda: values.isna(),
        "UniqueColumnConstraint": lambda: values.duplicated(keep=False),
    }.get(found["rule"])
    where = ""
    if offending is not None and values is not None:
        rows = [int(i) + 2 for i in frame.index[offending()][:10]]  # row 1 is the header
        where = f" (spreadsheet rows {', '.join(map(str, rows))})" if rows else ""
    return f"column {column}: {found['says'].rstrip('.')}{where}"


def _read_sheets(path: str, data: bytes) -> list[tuple[str, pd.DataFrame]]:
    """Every sheet of a workbook (or the one table of a CSV), with its name."""
    try:
        if path.lower().endswith(".csv"):
            return [(path, pd.read_csv(io.BytesIO(data), encoding="utf-8-sig"))]
        sheets = pd.read_excel(io.BytesIO(data), sheet_name=None, engine="openpyxl")
    except Exception as error:  # any unreadable workbook: the reason goes to quarantine
        raise SupplementError(
            f"{path}: unreadable workbook ({type(error).__name__}: {error})"
        ) from error
    return [(f"{path}[{name}]", frame) for name, frame in sheets.items()]


def _kind_of(frame: pd.DataFrame) -> str | None:
    columns = set(frame.columns)
    if "StoreID" in columns:
        return "stores"
    if {"brand_name", "category_id"} <= columns:
        return "brand_map"
    if {"brand_slug", "alias"} <= columns:
        return "aliases"
    if {"limit_name", "pesos"} <= columns:
        return "limits"
    return None


def _normalise_stores(frame: pd.DataFrame, origin: str) -> pd.DataFrame:
    frame = frame.dropna(how="all").copy()
    for column in STORE_COLUMNS:
        if column not in frame.columns:
            frame[column] = None
    frame = frame[STORE_COLUMNS]
    for column in (
        "StoreName",
        "DeviceID",
        "BarangayName",
        "MunicipalityName",
        "ProvinceName",
        "Region",
    ):
        frame[column] = frame[column].astype("string").str.strip().astype(object)
        frame[column] = frame[column].where(frame[column].notna(), None)
    frame["DeviceID"] = frame["DeviceID"].map(lambda v: v.upper() if isinstance(v, str) else v)
    frame["source"] = origin
    return _checked(StoresFrame, frame, origin)


def build_reference_tables(
    drive: DriveSource | None,
    server_tables: dict[str, pd.DataFrame] | None = None,
    last_good: dict[str, tuple[str, bytes]] | None = None,
) -> ReferenceTables:
    """Seed (or the production server's tables) + supplements -> every reference table.

    ``last_good`` maps a supplement's path to the sha256 and bytes of its last version that
    passed: a version that fails is replaced by it.
    """
    server_tables = server_tables or {}
    if "dbo.Stores" in server_tables:
        stores = _normalise_stores(server_tables["dbo.Stores"], "server:dbo.Stores")
    else:
        stores = _normalise_stores(_seed("stores_observed.csv"), "seed:stores_observed.csv")
    brand_map = server_tables.get("dbo.BrandCategoryMapping")
    if brand_map is None:
        brand_map = _seed("brand_category_mapping.csv")
    aliases = _seed("brand_aliases.csv")
    limits = _seed("plausibility_limits.csv")
    if (REFERENCE_DIR / "brand_aliases_extra.csv").exists():
        extra = _seed("brand_aliases_extra.csv")[["brand_slug", "alias"]]
        aliases = pd.concat([aliases, extra], ignore_index=True)
    brand_updates = brand_map.iloc[0:0]
    result = ReferenceTables(tables={})

    supplements = drive.list_files(folders=("supplements",)) if drive else []
    for file in sorted(supplements, key=lambda f: f.path):
        assert drive is not None  # a file is listed only from a Drive
        updates = _read_supplement(drive, file, result)
        if updates is None:  # failed: its last good version, if any, still applies
            kept = (last_good or {}).get(file.path)
            if kept is None:
                continue
            result.kept_versions[file.path] = kept[0]
            updates = _apply_supplement(file.path, kept[1])
        for kind, frame in updates:
            if kind == "stores":
                stores = pd.concat([stores[~stores.StoreID.isin(frame.StoreID)], frame])
            elif kind == "brand_map":
                brand_map = pd.concat(
                    [brand_map[~brand_map.brand_name.isin(frame.brand_name)], frame]
                )
                brand_updates = pd.concat(
                    [brand_updates[~brand_updates.brand_name.isin(frame.brand_name)], frame]
                )
            elif kind == "limits":
                limits = pd.concat([limits[~limits.limit_name.isin(frame.limit_name)], frame])
            else:
                aliases = pd.concat([aliases, frame])

    result.tables = _derive_tables(stores, brand_map, brand_updates, aliases.drop_duplicates())
    result.tables["ref.plausibility_limits"] = limits.sort_values("limit_name").reset_index(
        drop=True
    )
    # The server's geography is authoritative; without it, it is derived from the stores.
    for table in ("dbo.Region", "dbo.Province", "dbo.Municipality"):
        if table in server_tables:
            result.tables[table] = server_tables[table].reset_index(drop=True)
    return result


def _read_supplement(drive: DriveSource, file: DriveFile, result: ReferenceTables):
    """The updates a supplement workbook makes, or None (its failure noted in ``result``)."""
    try:
        if file.problem:
            raise OSError(file.problem)
        data = drive.read_bytes(file.path)
    except OSError as error:
        reason = f"{file.path}: unreadable: {error.strerror or error}"
        result.supplements_rejected.append((file, None, reason))
        return None
    try:
        updates = _apply_supplement(file.path, data)
    except SupplementError as error:
        result.supplements_rejected.append((file, sha256_hex(data), str(error)))
        return None
    result.supplements_loaded.append((file, sha256_hex(data), data))
    return updates


def _apply_supplement(path: str, data: bytes) -> list[tuple[str, pd.DataFrame]]:
    updates = []
    for origin, frame in _read_sheets(path, data):
        kind = _kind_of(frame)
        if kind is None:
            if frame.dropna(how="all").empty:
                continue  # an empty sheet is not an error
            raise SupplementError(
                f"{origin}: unrecognised supplement with columns {list(frame.columns)} "
                "(expected StoreID..., brand_name+category_id, or brand_slug+alias)"
            )
        if kind == "stores":
            frame = _normalise_stores(frame, origin)
        elif kind == "brand_map":
            frame = frame[["brand_name", "category_id"]].dropna(how="all").copy()
            frame["mapping_source"] = origin
            frame = _checked(BrandMapFrame, frame, origin)
        elif kind == "limits":
            frame = frame[["limit_name", "pesos"]].dropna(how="all").copy()
            frame = _checked(LimitsFrame, frame, origin).assign(note=origin)
        else:
            frame = _checked(AliasFrame, frame[["brand_slug", "alias"]].dropna(), origin)
        updates.append((kind, frame))
    return updates


def _derive_tables(
    stores: pd.DataFrame,
    brand_map: pd.DataFrame,
    brand_updates: pd.DataFrame,
    aliases: pd.DataFrame,
) -> dict[str, pd.DataFrame]:
    departments = _seed("nielsen_departments.csv")
    groups = _seed("nielsen_category_groups.csv")
    categories = (
        _seed("nielsen_categories.csv")
        .merge(groups.drop(columns=["sort_order"]), on="category_group_id", how="left")
        .merge(departments[["department_id", "department_name"]], on="department_id", how="left")
    )
    provinces = (
        stores.dropna(subset=["ProvinceName"])
        .groupby("ProvinceName", as_index=False)["Region"]
        .first()
        .rename(columns={"ProvinceName": "province_name", "Region": "region_code"})
    )
    municipalities = (
        stores.dropna(subset=["MunicipalityName", "ProvinceName"])
        .groupby(["MunicipalityName", "ProvinceName"], as_index=False)["Region"]
        .first()
        .rename(
            columns={
                "MunicipalityName": "municipality_name",
                "ProvinceName": "province_name",
                "Region": "region_code",
            }
        )
    )
    return {
        "dbo.Stores": stores.sort_values("StoreID").reset_index(drop=True),
        "dbo.Region": _seed("ph_regions.csv"),
        "dbo.Province": provinces,
        "dbo.Municipality": municipalities,
        "dbo.TaxonomyDepartments": departments,
        "dbo.TaxonomyCategories": categories,
        "dbo.BrandCategoryMapping": brand_map.sort_values("brand_name").reset_index(drop=True),
        "ref.nielsen_brand_map": _nielsen_brand_map(brand_updates, categories),
        "ref.brand_aliases": aliases.sort_values(["brand_slug", "alias"]).reset_index(drop=True),
        "ref.observed_category_map": _seed("observed_category_map.csv")[
            ["observed_category", "category_name"]
        ].merge(categories[["category_name", "department_name"]], on="category_name", how="left"),
    }


def _nielsen_brand_map(brand_updates: pd.DataFrame, categories: pd.DataFrame) -> pd.DataFrame:
    """Every known brand with its Nielsen category: the reconciled seed (one row per brand,
    spellings merged; see reference_data/PROVENANCE.md), overridden by supplement updates."""
    seed = pd.read_csv(REFERENCE_DIR / "nielsen_brand_map.csv")
    seed = seed[["brand_name", "category_id", "confidence", "source"]]
    updates = brand_updates[["brand_name", "category_id"]].assign(
        confidence=1.0, source=brand_updates["mapping_source"]
    )
    merged = pd.concat([seed[~seed.brand_name.isin(updates.brand_name)], updates])
    named = merged.merge(
        categories[["category_id", "category_name", "department_name"]],
        on="category_id",
        how="left",
    ).rename(columns={"category_name": "nielsen_category", "department_name": "nielsen_department"})
    return named.sort_values("brand_name").reset_index(drop=True)


def fingerprint(frame: pd.DataFrame) -> str:
    """A content hash of a table, stable across runs."""
    digest = hashlib.sha256()
    digest.update(",".join(map(str, frame.columns)).encode())
    digest.update(pd.util.hash_pandas_object(frame.astype(str), index=False).values.tobytes())
    return digest.hexdigest()


def last_good_supplements(warehouse: DuckDBWarehouse) -> dict[str, tuple[str, bytes]]:
    """Path -> sha256 and bytes of each supplement's latest version that passed."""
    rows = warehouse.query(sql_text("bronze/last_good_supplements.sql")).to_pylist()
    return {row["file_path"]: (row["file_hash"], row["content"]) for row in rows}


def write_reference_tables(
    warehouse: DuckDBWarehouse, reference: ReferenceTables, batch_id: str
) -> dict[str, int]:
    """Replace the reference tables whose content changed; returns rows written per table."""
    current = {
        row["table_name"]: row["fingerprint"]
        for row in warehouse.query(
            "select table_name, fingerprint from ref.reference_fingerprints"
        ).to_pylist()
    }
    changed = {
        table: (frame, table_print)
        for table, frame in reference.tables.items()
        if current.get(table) != (table_print := fingerprint(frame))
    }
    recorded = {
        (row["file_path"], row["file_hash"]): (row["file_size"], row["modified_at"])
        for row in warehouse.query(
            "select file_path, file_hash, file_size, modified_at from audit.FileManifest "
            "where file_path like 'supplements/%'"
        ).to_pylist()
    }
    new_loaded = [s for s in reference.supplements_loaded if (s[0].path, s[1]) not in recorded]
    kept_versions = {
        (row["file_path"], row["file_hash"])
        for row in warehouse.query(
            "select file_path, file_hash from audit.SupplementVersions"
        ).to_pylist()
    }
    new_versions = [s for s in reference.supplements_loaded
                    if (s[0].path, s[1]) not in kept_versions]  # fmt: skip
    new_rejected = [r for r in reference.supplements_rejected if (r[0].path, r[1]) not in recorded]
    # A workbook touched without a change: only its listing moves (so `scout run` can still
    # tell from the listing alone that nothing is new).
    touched = [
        (file, file_hash) for file, file_hash, *_ in
        [*reference.supplements_loaded, *reference.supplements_rejected]
        if recorded.get((file.path, file_hash), (file.size, file.modified_at))
        != (file.size, file.modified_at)
    ]  # fmt: skip
    verdicts = _supplement_verdicts(warehouse, reference)
    if not (changed or new_loaded or new_rejected or new_versions or touched or verdicts):
        return {}  # nothing new: a repeated run leaves the warehouse untouched

    audit = AuditEntry("bronze.reference_data", batch_id)
    now = manila_now()
    with warehouse.transaction(audit) as tx:
        previous_taxonomy = taxonomy_before_change(tx, changed)
        previous_reference = reference_before_change(tx.con, changed)
        for table, (frame, table_print) in changed.items():
            tx.execute(f"delete from {table}")
            tx.insert_arrow(table, pa.Table.from_pandas(frame, preserve_index=False))
            record_fingerprint(tx.con, table, table_print, now)
        # Queue the months the change alters: the brand map and taxonomy (which also forget
        # the brand answers they invalidate), the stores, regions and limits.
        invalidate_after_change(tx, previous_taxonomy, batch_id, now)
        queue_reference_changes(tx.con, previous_reference, batch_id, now)
        _record_supplements(tx, new_loaded, new_rejected, batch_id, now)
        for file, file_hash, data in new_versions:
            tx.execute("insert into audit.SupplementVersions values (?, ?, ?, ?, ?)",
                       [file.path, file_hash, data, now, batch_id])  # fmt: skip
        for file, touched_hash in touched:
            tx.execute(
                "update audit.FileManifest set file_size = ?, modified_at = ? "
                "where file_path = ? and file_hash is not distinct from ?",
                [file.size, file.modified_at, file.path, touched_hash],
            )
        record_verdicts(tx.con, verdicts, batch_id)
        audit.count(sum(len(frame) for frame, _ in changed.values()), failed=len(new_rejected))
    return {table: len(frame) for table, (frame, _) in changed.items()}


def _supplement_verdicts(warehouse: DuckDBWarehouse, reference: ReferenceTables) -> list[Verdict]:
    """Each supplement's verdict where it differs from the last one recorded: ERROR when its
    current version fails (the alert), OK when it passes again (the recovery)."""
    rows = warehouse.query(
        sql_text("checks/latest_verdicts.sql"), {"check_name": names.SUPPLEMENTS_VALID}
    ).to_pylist()
    last = {row["subject"]: row["severity"] for row in rows}
    asset = "bronze/stores"
    verdicts = [
        Verdict(names.SUPPLEMENTS_VALID, asset, file.path, OK,
                f"{file.path} ({file_hash[:12]}) passed and applies", {"sha256": file_hash})
        for file, file_hash, _data in reference.supplements_loaded
        if last.get(file.path, OK) != OK
    ]  # fmt: skip
    for file, file_hash, reason in reference.supplements_rejected:
        kept = reference.kept_versions.get(file.path)
        applied = (f"its last good version ({kept[:12]}) still applies" if kept else
                   "no earlier version passed, so it applies nothing")  # fmt: skip
        if last.get(file.path) != ERROR:
            verdicts.append(Verdict(names.SUPPLEMENTS_VALID, asset, file.path, ERROR,
                                    f"{reason}; {applied}",
                                    {"sha256": file_hash, "kept_sha256": kept}))  # fmt: skip
    return verdicts


def _record_supplements(tx, loaded, rejected, batch_id: str, now) -> None:
    """Manifest rows (and, for a failed one, a quarantine row) for supplement versions not
    recorded before."""
    for file, file_hash, _data in loaded:
        tx.execute(
            """
            insert into audit.FileManifest
                (file_path, file_hash, file_size, modified_at, first_seen_at, status, batch_id)
            values (?, ?, ?, ?, ?, 'loaded', ?)
            """,
            [file.path, file_hash, file.size, file.modified_at, now, batch_id],
        )
    for file, file_hash, reason in rejected:
        path = file.path
        tx.execute(
            """
            insert into audit.FileManifest (file_path, file_hash, file_size, modified_at,
                                            first_seen_at, status, batch_id, notes)
            values (?, ?, ?, ?, ?, 'quarantined', ?, ?)
            """,
            [path, file_hash, file.size, file.modified_at, now, batch_id, reason[:4000]],
        )
        tx.execute(
            """
            insert into audit.Quarantine
                (batch_id, file_hash, source_file, reason, quarantined_at)
            values (?, ?, ?, ?, ?)
            """,
            [batch_id, file_hash, path, reason[:4000], now],
        )
