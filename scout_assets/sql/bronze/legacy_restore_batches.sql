-- After the files are read again: their rows carry the batch and time that first loaded them,
-- items of the old keys go, every interaction's current row and every payload's time are
-- derived again (scout_assets/bronze/legacy.py).
update dbo.PayloadTransactions as p
set etl_batch_id = m.batch_id, ingestion_timestamp = m.first_seen_at
from audit.FileManifest as m
where p.etl_batch_id = 'reading-again'
  and m.file_path = p.source_file and m.file_hash = p.file_hash;

update dbo.InteractionDeliveries as d
set etl_batch_id = m.batch_id, ingestion_timestamp = m.first_seen_at
from audit.FileManifest as m
where d.etl_batch_id = 'reading-again'
  and m.file_path = d.source_file and m.file_hash = d.file_hash;

update audit.Quarantine as q
set batch_id = m.batch_id, quarantined_at = m.first_seen_at
from audit.FileManifest as m
where q.batch_id = 'reading-again'
  and m.file_path = q.source_file and m.file_hash = q.file_hash;

update dbo.PayloadItems as i
set etl_batch_id = first.etl_batch_id
from (
    select payload_hash, arg_min(etl_batch_id, ingestion_timestamp) as etl_batch_id
    from dbo.PayloadTransactions
    group by payload_hash
) as first
where i.etl_batch_id = 'reading-again' and first.payload_hash = i.payload_hash;

delete from dbo.PayloadItems
where payload_hash not in (select payload_hash from dbo.PayloadTransactions);

delete from dbo.SalesInteractions;

insert into dbo.SalesInteractions by name
select * exclude (processing_status)
from dbo.InteractionDeliveries
where processing_status <> 'rollback'
qualify row_number() over (
    partition by interaction_key
    order by ingestion_timestamp desc, source_file desc, source_member desc,
             source_position desc
) = 1;

update dbo.PayloadTransactions as p
set
    txn_ts = coalesce(it.transaction_date, p.consent_ts),
    ts_source = case
        when it.transaction_date is not null then 'interaction'
        when p.consent_ts is not null then 'consent'
        else 'unknown'
    end
from dbo.PayloadTransactions as q
left join dbo.v_interaction_times as it using (canonical_tx_id)
where p.payload_id = q.payload_id
  and p.payload_ts is null
  and p.processing_status <> 'rollback';
