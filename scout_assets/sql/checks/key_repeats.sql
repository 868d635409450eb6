-- The keys of {table} ({key}) held by more than one row, per month of $months for a monthly
-- table ({scope} is its month column), else in the whole table ({scope} is null). The warehouse
-- holds no key constraints (a DuckLake has none: docs/ARCHITECTURE.md, "No keys in the
-- warehouse"), so this count is the proof. Read by scout_assets/checks/keys.py, which fills
-- in the identifiers from scout_assets/models.py.
with repeats as (
    select
        {scope} as month,
        concat_ws(' / ', {key}) as key_value,
        count(*) as copies
    from {table}
    where {scope} is null or {scope} = any($months::date[])
    group by all
    having count(*) > 1
)

select
    month,
    count(*) as repeated_keys,
    sum(copies) as rows_involved,
    string_agg(key_value, ', ' order by key_value) filter (where key_rank <= 3) as examples
from (select *, row_number() over (partition by month order by key_value) as key_rank from repeats)
group by month
