"""Extract the served objects' contract from the original system's documentation.

    python scripts/extract_contract.py PATH/TO/ORIGINAL_GUIDE.md [-o OUT.csv]

The original documents its T-SQL views and procedures in ```sql blocks. For every view this
writes each output column with a type family inferred from its expression; for every table it
writes each column the SQL reads or writes (INSERT column lists, qualified and single-table
references, UPDATE ... SET), typed by the CASTs the ingestion procedures apply to it. Families:
integer, number, text, date, timestamp, boolean, any (the SQL does not say). The output is
kept in the repository (scout_assets_tests/contract/original_columns.csv) and read by the
contract tests; rerun this only when the original's documentation changes.
"""

from __future__ import annotations

import argparse
import csv
import re
import sys
from pathlib import Path

import sqlglot
from sqlglot import exp
from sqlglot.errors import ErrorLevel

DEFAULT_OUT = (
    Path(__file__).resolve().parent.parent / "scout_assets_tests/contract/original_columns.csv"
)
INTEGER_FUNCTIONS = (exp.Count, exp.RowNumber, exp.DateDiff)
NUMBER_FUNCTIONS = (exp.Sum, exp.Avg, exp.Round, exp.Abs, exp.Div, exp.Mul, exp.Add, exp.Sub)


def family_of_type(data_type: exp.DataType) -> str:
    kind = data_type.this
    if kind in (exp.DataType.Type.INT, exp.DataType.Type.BIGINT, exp.DataType.Type.SMALLINT):
        return "integer"
    if kind in (
        exp.DataType.Type.DECIMAL,
        exp.DataType.Type.FLOAT,
        exp.DataType.Type.DOUBLE,
        exp.DataType.Type.MONEY,
    ):
        return "number"
    if kind == exp.DataType.Type.DATE:
        return "date"
    if kind in (
        exp.DataType.Type.DATETIME2,
        exp.DataType.Type.DATETIME,
        exp.DataType.Type.TIMESTAMP,
    ):
        return "timestamp"
    if kind == exp.DataType.Type.BIT or kind == exp.DataType.Type.BOOLEAN:
        return "boolean"
    if data_type.is_type(*exp.DataType.TEXT_TYPES):
        return "text"
    return "any"


def sql_blocks(text: str) -> list[str]:
    blocks = re.findall(r"```sql\n(.*?)```", text, flags=re.DOTALL)
    # sqlglot reads CREATE VIEW; OR ALTER changes nothing in what the view exposes.
    return [re.sub(r"CREATE\s+OR\s+ALTER\s+VIEW", "CREATE VIEW", b, flags=re.I) for b in blocks]


def statements(block: str) -> list[exp.Expression]:
    """The statements of a block that parse as T-SQL (procedure bodies are searched too)."""
    parsed = []
    for piece in re.split(r";\s*\n", block):
        for candidate in (piece, _body(piece)):
            if not candidate:
                continue
            try:
                tree = sqlglot.parse_one(candidate, read="tsql", error_level=ErrorLevel.IGNORE)
            except sqlglot.errors.SqlglotError:
                continue
            if tree is not None and not isinstance(tree, exp.Command):
                parsed.append(tree)
                break
    return parsed


def _body(piece: str) -> str | None:
    """The DML of a procedure fragment: from its first WITH/INSERT/UPDATE/SELECT/DELETE."""
    match = re.search(r"^\s*(WITH|INSERT|UPDATE|SELECT|DELETE)\b", piece, re.M | re.I)
    return piece[match.start() :] if match else None


class Contract:
    def __init__(self) -> None:
        self.tables: dict[str, dict[str, str]] = {}
        self.views: dict[str, dict[str, str]] = {}

    def table_column(self, table: str, column: str, family: str = "any") -> None:
        columns = self.tables.setdefault(table, {})
        if columns.get(column, "any") == "any":
            columns[column] = family

    def known_family(self, column: str) -> str:
        for columns in self.tables.values():
            if columns.get(column, "any") != "any":
                return columns[column]
        return "any"


def qualified(table: exp.Table) -> str:
    return f"{table.db or 'dbo'}.{table.name}"


def sources(select: exp.Select, ctes: dict) -> dict[str, object]:
    """Alias -> CTE projections (a dict) or base table name, for one SELECT."""
    found = {}
    for table in select.find_all(exp.Table):
        if table.find_ancestor(exp.Select) is not select:
            continue
        name = table.name if not table.db and table.name in ctes else qualified(table)
        target = ctes.get(table.name) if not table.db and table.name in ctes else name
        found[table.alias_or_name] = target
    return found


def collect_tables(tree: exp.Expression, contract: Contract, ctes: dict) -> None:
    # A procedure's own CTEs are not tables (a view's arrive in ``ctes``).
    ctes = {**{cte.alias: {} for cte in tree.find_all(exp.CTE)}, **ctes}
    if isinstance(tree, exp.Insert) and isinstance(tree.this, exp.Schema):
        if isinstance(tree.this.this.this, exp.Parameter):  # a table variable (@Issues)
            return
        table = qualified(tree.this.this)
        names = [c.name for c in tree.this.expressions]
        select = tree.expression
        values = select.expressions if isinstance(select, exp.Select) else []
        for i, name in enumerate(names):
            cast = values[i].find(exp.Cast) if i < len(values) else None
            contract.table_column(table, name, family_of_type(cast.to) if cast else "any")
    if isinstance(tree, exp.Update):
        # UPDATE alias SET ... FROM table alias: the alias names the table.
        tables = {t.alias_or_name: qualified(t) for t in tree.find_all(exp.Table)}
        target = tables.get(tree.this.alias_or_name, qualified(tree.this))
        for assignment in tree.expressions:
            contract.table_column(target, assignment.this.name)
    for select in tree.find_all(exp.Select):
        aliases = sources(select, ctes)
        bases = {a: t for a, t in aliases.items() if isinstance(t, str)}
        for column in select.find_all(exp.Column):
            if column.find_ancestor(exp.Select) is not select:
                continue
            if column.table in bases:
                contract.table_column(bases[column.table], column.name)
            elif not column.table and len(aliases) == 1 and bases:
                contract.table_column(next(iter(bases.values())), column.name)


def infer(expression: exp.Expression, aliases: dict, contract: Contract, ctes: dict) -> str:
    node = expression.this if isinstance(expression, exp.Alias) else expression
    if isinstance(node, exp.Paren):
        return infer(node.this, aliases, contract, ctes)
    if isinstance(node, exp.Cast):
        return family_of_type(node.to)
    if (
        isinstance(node, INTEGER_FUNCTIONS)
        or (isinstance(node, exp.Anonymous) and node.name.upper() == "DATEPART")
        or isinstance(node, (exp.Year, exp.Month, exp.Week, exp.Hour, exp.Extract))
    ):
        return "integer"
    if isinstance(node, exp.Round) or isinstance(node, NUMBER_FUNCTIONS):
        return "number"
    if isinstance(node, exp.Literal):
        return "text" if node.is_string else "number"
    if isinstance(node, exp.Case):
        families = {
            infer(branch.args["true"], aliases, contract, ctes) for branch in node.args["ifs"]
        }
        return families.pop() if len(families) == 1 else "any"
    if isinstance(node, (exp.Coalesce, exp.Min, exp.Max, exp.FirstValue, exp.Window)):
        for argument in (
            [node.this, *node.expressions] if not isinstance(node, exp.Window) else [node.this]
        ):
            family = infer(argument, aliases, contract, ctes)
            if family != "any":
                return family
        return "any"
    if isinstance(node, exp.Column):
        source = (
            aliases.get(node.table)
            if node.table
            else (next(iter(aliases.values())) if len(aliases) == 1 else None)
        )
        if isinstance(source, dict) and node.name in source:
            projection, scope = source[node.name]
            return infer(projection, scope, contract, ctes)
        return contract.known_family(node.name)
    return "any"


def collect_view(tree: exp.Create, contract: Contract) -> None:
    query = tree.expression
    ctes: dict[str, dict] = {}
    with_ = query.args.get("with_") or query.args.get("with")
    for cte in with_.expressions if with_ else []:
        select = cte.this if isinstance(cte.this, exp.Select) else cte.this.find(exp.Select)
        projections = {}
        for part in cte.this.find_all(exp.Select) if isinstance(cte.this, exp.Union) else [select]:
            scope = sources(part, ctes)
            for projection in part.expressions:
                if projection.alias_or_name != "*":
                    projections.setdefault(projection.alias_or_name, (projection, scope))
        # SELECT * carries the CTE it reads.
        star = any(p.alias_or_name == "*" for p in select.expressions)
        if star:
            for source in sources(select, ctes).values():
                if isinstance(source, dict):
                    projections = {**source, **projections}
        ctes[cte.alias] = projections
        collect_tables(cte.this, contract, ctes)
    final = query if isinstance(query, exp.Select) else query.find(exp.Select)
    collect_tables(final, contract, ctes)
    aliases = sources(final, ctes)
    view = contract.views.setdefault(qualified(tree.this), {})
    for projection in final.expressions:
        if projection.alias_or_name == "*":
            continue
        view[projection.alias_or_name] = infer(projection, aliases, contract, ctes)


def extract(text: str) -> Contract:
    contract = Contract()
    views = []
    for block in sql_blocks(text):
        for tree in statements(block):
            if isinstance(tree, exp.Create) and tree.kind == "VIEW":
                views.append(tree)
            else:
                collect_tables(tree, contract, {})
    for tree in views:  # after the tables, so base columns carry their CASTs' families
        collect_view(tree, contract)
    return contract


def write(contract: Contract, out: Path) -> int:
    rows = [
        ("view", name, column, family)
        for name, cols in contract.views.items()
        for column, family in cols.items()
    ]
    rows += [
        ("table", name, column, family)
        for name, cols in contract.tables.items()
        for column, family in cols.items()
        if name not in contract.views
    ]
    rows.sort(key=lambda r: (r[1].lower(), r[0]))
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["kind", "object", "column", "family"])
        writer.writerows(rows)
    return len(rows)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("guide", type=Path, help="the original system's documentation")
    parser.add_argument("-o", "--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args(argv)
    count = write(extract(args.guide.read_text(encoding="utf-8")), args.out)
    print(f"{count} columns written to {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
