-- Distinct (product name, device brand hint) pairs of $months' items not yet in the brand cache.
select distinct
    coalesce(i.product_name, '') as product_name,
    coalesce(i.brand_hint, '') as brand_hint
from dbo.Transactions as t
join dbo.PayloadItems as i using (payload_hash)
where t.txn_month = any($months)
  and not exists (
      select 1 from ref.brand_match_cache as m
      where m.product_name = coalesce(i.product_name, '')
        and m.brand_hint = coalesce(i.brand_hint, '')
  );
