-- Items are stored once per distinct payload hash. The payload hashes batch $batch_id brought
-- that now have more than one payload row (a re-delivery, in this batch or after an earlier
-- one) have their items more than once: keep one copy. Which one does not matter: the same
-- bytes give the same items.
delete from dbo.PayloadItems
where rowid in (
    select rowid
    from (
        select
            rowid,
            row_number() over (partition by payload_hash, item_sequence order by rowid) as copy
        from dbo.PayloadItems
        semi join (
            select payload_hash
            from dbo.PayloadTransactions
            semi join (
                select payload_hash from dbo.PayloadTransactions where etl_batch_id = $batch_id
            ) using (payload_hash)
            group by payload_hash
            having count(*) > 1
        ) using (payload_hash)
    )
    where copy > 1
);
