-- Transactions whose time is still unknown: kept, counted, and placed when data arrives.
create or replace view dbo.v_unplaced_transactions as
select canonical_tx_id, transaction_id, store_id, device_id, total_amount, source_file,
       ingestion_timestamp, version_count
from dbo.v_payload_versions
where is_winner and txn_ts is null;
