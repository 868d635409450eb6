-- Bronze carries no keys: uniqueness holds by construction (the manifest and known hashes
-- are anti-joined before anything is appended) and this proves it for batch $batch_id. Each
-- figure counts keys held by more than one row, among the keys the batch wrote:
-- a manifest entry (path and content), a payload row id, an item of a payload's content.
with batch_files as (
    select file_path from audit.FileManifest where batch_id = $batch_id
),

batch_payloads as (
    select payload_id, payload_hash from dbo.PayloadTransactions where etl_batch_id = $batch_id
),

manifest_repeats as (
    select file_path, file_hash
    from audit.FileManifest
    semi join batch_files using (file_path)
    group by all
    having count(*) > 1
),

payload_id_repeats as (
    select payload_id
    from dbo.PayloadTransactions
    semi join batch_payloads using (payload_id)
    group by all
    having count(*) > 1
),

item_repeats as (
    select payload_hash, item_sequence
    from dbo.PayloadItems
    semi join batch_payloads using (payload_hash)
    group by all
    having count(*) > 1
)

select
    (select count(*) from manifest_repeats) as manifest_repeats,
    (select count(*) from payload_id_repeats) as payload_id_repeats,
    (select count(*) from item_repeats) as item_repeats
