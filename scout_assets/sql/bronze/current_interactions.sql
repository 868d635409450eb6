-- dbo.SalesInteractions for the touched interactions: the latest delivery of each that is
-- not rolled back (the latest batch, then the last file, then the last position).
delete from dbo.SalesInteractions
where interaction_key in (select interaction_key from touched_interactions);

insert into dbo.SalesInteractions by name
select * exclude (processing_status)
from dbo.InteractionDeliveries
semi join touched_interactions using (interaction_key)
where processing_status <> 'rollback'
qualify row_number() over (
    partition by interaction_key
    order by ingestion_timestamp desc, source_file desc, source_member desc,
             source_position desc
) = 1;
