-- Forget brand answers that only rolled-back payloads use (the cache is a memo of names seen).
delete from ref.brand_match_cache as c
where not exists (
    select 1
    from dbo.PayloadItems as i
    join dbo.PayloadTransactions as p using (payload_hash)
    where p.processing_status <> 'rollback'
      and coalesce(i.product_name, '') = c.product_name
      and coalesce(i.brand_hint, '') = c.brand_hint
);
