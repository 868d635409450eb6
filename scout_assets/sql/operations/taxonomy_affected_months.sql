-- The months whose items a taxonomy change alters: items whose cached brand answer is no
-- longer valid (taxonomy_pairs), whose brand changed category (taxonomy_brands), whose Nielsen
-- or keyword category changed (taxonomy_categories), or whose device category is mapped
-- differently (taxonomy_observed). The taxonomy_* relations are registered by
-- scout_assets/operations/taxonomy.py.
select distinct t.txn_month
from dbo.Transactions as t
join dbo.PayloadItems as i using (payload_hash)
left join dbo.TransactionItems as ti
    on ti.canonical_tx_id = t.canonical_tx_id and ti.item_sequence = i.item_sequence
where exists (
        select 1
        from taxonomy_pairs as p
        where p.product_name = coalesce(i.product_name, '')
          and p.brand_hint = coalesce(i.brand_hint, '')
    )
    or ti.brand_detected in (select brand_name from taxonomy_brands)
    or ti.nielsen_category in (select category_name from taxonomy_categories)
    or lower(i.category_hint) in (select observed_category from taxonomy_observed)
order by t.txn_month;
