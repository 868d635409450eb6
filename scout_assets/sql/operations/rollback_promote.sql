-- Hand the content of the rolled-back files that another batch delivered again to that
-- later copy (promotions: sql/operations/rollback_promotions.sql): its rows become the
-- copy's, as if the copy had loaded them, and the copy's manifest row records them.
update dbo.PayloadTransactions as p
set source_file = pr.heir_path, etl_batch_id = pr.heir_batch,
    ingestion_timestamp = pr.heir_seen_at
from promotions as pr
where p.etl_batch_id = pr.rolled_batch and p.source_file = pr.rolled_path
  and p.file_hash = pr.file_hash;

update dbo.InteractionDeliveries as d
set source_file = pr.heir_path, etl_batch_id = pr.heir_batch,
    ingestion_timestamp = pr.heir_seen_at
from promotions as pr
where d.etl_batch_id = pr.rolled_batch and d.source_file = pr.rolled_path
  and d.file_hash = pr.file_hash;

update audit.Quarantine as q
set source_file = pr.heir_path, batch_id = pr.heir_batch, quarantined_at = pr.heir_seen_at
from promotions as pr
where q.batch_id = pr.rolled_batch and q.source_file = pr.rolled_path
  and q.file_hash = pr.file_hash;

update audit.FileManifest as m
set status = pr.status, duplicate_of = null, payload_rows = pr.payload_rows,
    interaction_rows = pr.interaction_rows, quarantined_rows = pr.quarantined_rows,
    notes = pr.notes
from promotions as pr
where m.file_path = pr.heir_path and m.batch_id = pr.heir_batch and m.file_hash = pr.file_hash;

update audit.FileManifest as m
set duplicate_of = pr.heir_path
from promotions as pr
where m.status = 'duplicate' and m.file_hash = pr.file_hash
  and m.batch_id <> pr.rolled_batch and m.file_path <> pr.heir_path;
