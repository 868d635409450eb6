-- Figures behind the silver.transaction_items checks, per month of $months: brand detection
-- (with the items per brand_match_method), categorisation, and Nielsen categories /
-- departments missing from the taxonomy.
with months as (
    select unnest($months::date[]) as txn_month
),

items as (
    select
        i.txn_month,
        count(*) as items,
        count(*) filter (where i.brand_detected <> 'Unknown Brand') as branded,
        histogram(i.brand_match_method) as methods,
        count(*) filter (where i.nielsen_category <> 'Unspecified') as categorised,
        count(*) filter (
            where i.nielsen_category <> 'Unspecified' and c.category_name is null
        ) as unknown_categories,
        count(*) filter (where d.department_name is null) as unknown_departments
    from dbo.TransactionItems as i
    left join (select distinct category_name from dbo.TaxonomyCategories) as c
        on c.category_name = i.nielsen_category
    left join (select distinct department_name from dbo.TaxonomyDepartments) as d
        on d.department_name = i.nielsen_department
    where i.txn_month = any($months)
    group by i.txn_month
)

select
    months.txn_month as month,
    coalesce(items.items, 0) as items,
    coalesce(items.branded, 0) as branded,
    items.methods,
    coalesce(items.categorised, 0) as categorised,
    coalesce(items.unknown_categories, 0) as unknown_categories,
    coalesce(items.unknown_departments, 0) as unknown_departments
from months
left join items using (txn_month)
order by month;
