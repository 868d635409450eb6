-- dbo.TransactionRejects for $months: transactions silver cannot keep, with the reason, in the
-- month their best version places them. Today one reason: no version's store is in
-- dbo.Stores. They are judged again on every rebuild, and a change to dbo.Stores queues their
-- months (scout_assets/operations/reference_changes.py), so they appear in dbo.Transactions
-- as soon as the store list names their store.
select
    canonical_tx_id,
    transaction_id,
    txn_ts,
    txn_month,
    store_id,
    device_id,
    total_amount,
    reject_reason,
    version_count,
    payload_hash,
    source_file,
    $batch_id as etl_batch_id
from month_versions
where version_rank = 1 and reject_reason is not null;
