-- The newest timestamp of each watched table, and of its upstream (how far it lags behind).
select 'dbo.PayloadTransactions' as table_name, max(ingestion_timestamp) as latest,
       null::timestamp as upstream_latest
from dbo.PayloadTransactions
union all
select 'dbo.Transactions', max(txn_ts), null from dbo.Transactions
union all
select 'dbo.TransactionItems', max(t.txn_ts), (select max(txn_ts) from dbo.Transactions)
from dbo.TransactionItems as i join dbo.Transactions as t using (canonical_tx_id)
union all
select 'dbo.v_transactions_flat_production', max(txn_ts),
       (select max(txn_ts) from dbo.Transactions)
from dbo.v_transactions_flat_production
union all
select 'dbo.v_nielsen_complete_analytics', max(transaction_timestamp),
       (select max(txn_ts) from dbo.v_transactions_flat_production
        where data_quality_score >= 0.7)
from dbo.v_nielsen_complete_analytics
union all
select 'dbo.v_xtab_time_brand_category_abs',
       max(transaction_date + to_hours(hour)),
       (select max(date_trunc('hour', transaction_timestamp))
        from dbo.v_nielsen_complete_analytics)
from dbo.v_xtab_time_brand_category_abs;
