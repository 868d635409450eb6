-- Bronze carries no keys: uniqueness holds by construction (the manifest and known hashes
-- are anti-joined before anything is appended) and this proves it for batch $batch_id. Each
-- figure counts keys held by more than one row, among the keys the batch wrote: a manifest
-- entry (path and content), a payload or interaction delivery (the file version and the
-- place in it), an item of a payload's content.
with batch_files as (
    select file_path from audit.FileManifest where batch_id = $batch_id
),

batch_payloads as (
    select payload_hash, source_file, file_hash
    from dbo.PayloadTransactions
    where etl_batch_id = $batch_id
),

manifest_repeats as (
    -- an unreadable file has no content hash: each listing of it is its own entry
    select file_path, file_hash
    from audit.FileManifest
    semi join batch_files using (file_path)
    where file_hash is not null
    group by all
    having count(*) > 1
),

delivery_repeats as (
    select source_file, file_hash, source_member, source_position
    from dbo.PayloadTransactions
    semi join batch_payloads using (source_file, file_hash)
    group by all
    having count(*) > 1
),

interaction_repeats as (
    select source_file, file_hash, source_member, source_position
    from dbo.InteractionDeliveries
    semi join (
        select source_file, file_hash
        from dbo.InteractionDeliveries
        where etl_batch_id = $batch_id
    ) using (source_file, file_hash)
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
    (select count(*) from delivery_repeats) as delivery_repeats,
    (select count(*) from interaction_repeats) as interaction_delivery_repeats,
    (select count(*) from item_repeats) as item_repeats
