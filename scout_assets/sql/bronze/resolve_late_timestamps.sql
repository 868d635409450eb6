-- Late data: interactions that arrive after their payload give it a time (or an earlier
-- interaction time). Only payloads without a timestamp of their own are touched.
update dbo.PayloadTransactions as p
set
    txn_ts = coalesce(it.transaction_date, p.consent_ts),
    ts_source = case
        when it.transaction_date is not null then 'interaction'
        when p.consent_ts is not null then 'consent'
        else 'unknown'
    end
from touched_transactions as t
left join dbo.v_interaction_times as it using (canonical_tx_id)
where p.canonical_tx_id = t.canonical_tx_id
  and p.payload_ts is null
  and p.processing_status <> 'rollback';
