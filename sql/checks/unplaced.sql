-- Transactions whose time is still unknown against every transaction, with a few examples.
select
    (select count(*) from dbo.v_unplaced_transactions) as unplaced,
    (select count(distinct canonical_tx_id) from dbo.PayloadTransactions
     where processing_status <> 'rollback') as transactions,
    (select string_agg(canonical_tx_id, ', ')
     from (select canonical_tx_id from dbo.v_unplaced_transactions
           order by canonical_tx_id limit 5)) as examples;
