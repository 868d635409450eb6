-- The served objects take the original's column names and meanings (docs/SERVED_OBJECTS.md):
-- the ETL log's processing_duration_seconds and status 'completed' (were duration_seconds and
-- 'success'); the flat table's MunicipalityName/ProvinceName (were municipality_name and
-- province_name); the monitors' current_run_duration_minutes and duplicate_rate; the
-- interaction-level substitution_event may be NULL, the items' substitutions in their own
-- columns. Every served object is published again in its new meaning (PublishLog forgotten;
-- the ETL log's watermark stays, so no log row is sent twice).
-- Idempotent: a server whose tables were created at this shape is left as it is.
do $$
begin
    if exists (select 1 from information_schema.columns where table_schema = 'audit'
               and table_name = 'etlprocessinglog' and column_name = 'duration_seconds') then
        alter table audit.etlprocessinglog
            rename column duration_seconds to processing_duration_seconds;
    end if;
    if exists (select 1 from information_schema.columns where table_schema = 'dbo'
               and table_name = 'v_transactions_flat_production'
               and column_name = 'municipality_name') then
        alter table dbo.v_transactions_flat_production
            rename column municipality_name to municipalityname;
    end if;
    if exists (select 1 from information_schema.columns where table_schema = 'dbo'
               and table_name = 'v_transactions_flat_production'
               and column_name = 'province_name') then
        alter table dbo.v_transactions_flat_production
            rename column province_name to provincename;
    end if;
    if to_regclass('audit.etlprocessinglog') is not null then
        update audit.etlprocessinglog set status = 'completed' where status = 'success';
    end if;
    if to_regclass('audit.publishlog') is not null then
        update audit.publishlog set fingerprint = ''
        where object_name <> 'audit.ETLProcessingLog';
    end if;
end
$$;
alter table if exists dbo.v_pipeline_realtime_monitor
    add column if not exists current_run_duration_minutes double precision;
alter table if exists dbo.v_data_quality_monitor
    add column if not exists duplicate_rate double precision;
alter table if exists dbo.v_insight_base alter column substitution_event drop not null;
alter table if exists dbo.v_insight_base
    add column if not exists item_substitution_event boolean,
    add column if not exists item_substitution_reason varchar(4000);
alter table if exists dbo.v_nielsen_complete_analytics alter column substitution_event drop not null;
alter table if exists dbo.v_nielsen_complete_analytics
    add column if not exists item_substitution_event boolean,
    add column if not exists item_substitution_reason varchar(4000);
