-- Taxonomy integrity, one row per rule with the offending names: mapped brands without a
-- category or department, and orphan categories. (Brands mapped twice are found in Python,
-- under brand detection's name normalisation.)
with brand_rows as (
    -- Brands with a category id that does not resolve to a category with a department.
    select 'ref.nielsen_brand_map: ' || brand_name as name
    from ref.nielsen_brand_map
    where category_id is not null and (nielsen_category is null or nielsen_department is null)
    union all
    select 'dbo.BrandCategoryMapping: ' || m.brand_name
    from dbo.BrandCategoryMapping as m
    left join dbo.TaxonomyCategories as c using (category_id)
    where c.category_id is null or c.department_name is null
),

orphan_categories as (
    select 'dbo.TaxonomyCategories: ' || c.category_name as name
    from dbo.TaxonomyCategories as c
    left join dbo.TaxonomyDepartments as d using (department_id)
    where d.department_id is null or c.department_name is distinct from d.department_name
    union all
    select 'ref.observed_category_map: ' || o.observed_category || ' -> ' || o.category_name
    from ref.observed_category_map as o
    left join dbo.TaxonomyCategories as c using (category_name)
    where c.category_id is null and o.category_name <> 'Unspecified'
)

select 'mapped_brands_have_category' as rule, list(name order by name) as offenders
from brand_rows
union all
select 'no_orphan_categories', list(name order by name) from orphan_categories;
