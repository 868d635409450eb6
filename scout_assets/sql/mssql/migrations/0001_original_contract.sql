-- The served objects take the original's column names and meanings (docs/SERVED_OBJECTS.md):
-- the ETL log's processing_duration_seconds and status 'completed' (were duration_seconds and
-- 'success'); the flat table's MunicipalityName/ProvinceName (were municipality_name and
-- province_name); the monitors' current_run_duration_minutes and duplicate_rate; the
-- interaction-level substitution_event may be NULL, the items' substitutions in their own
-- columns. Every served object is published again in its new meaning (PublishLog forgotten;
-- the ETL log's watermark stays, so no log row is sent twice).
-- Idempotent: a server whose tables were created at this shape is left as it is.
if col_length(N'audit.ETLProcessingLog', N'duration_seconds') is not null
begin
    exec sp_rename N'audit.ETLProcessingLog.duration_seconds', N'processing_duration_seconds', N'COLUMN';
end
go
if col_length(N'dbo.v_transactions_flat_production', N'municipality_name') is not null
begin
    exec sp_rename N'dbo.v_transactions_flat_production.municipality_name', N'MunicipalityName', N'COLUMN';
end
go
if col_length(N'dbo.v_transactions_flat_production', N'province_name') is not null
begin
    exec sp_rename N'dbo.v_transactions_flat_production.province_name', N'ProvinceName', N'COLUMN';
end
go
if object_id(N'audit.ETLProcessingLog', N'U') is not null
begin
    update audit.ETLProcessingLog set status = N'completed' where status = N'success';
end
go
if object_id(N'audit.PublishLog', N'U') is not null
begin
    update audit.PublishLog set fingerprint = N'' where object_name <> N'audit.ETLProcessingLog';
end
go
if object_id(N'dbo.v_pipeline_realtime_monitor', N'U') is not null
    and col_length(N'dbo.v_pipeline_realtime_monitor', N'current_run_duration_minutes') is null
begin
    alter table dbo.v_pipeline_realtime_monitor add [current_run_duration_minutes] float null;
end
go
if object_id(N'dbo.v_data_quality_monitor', N'U') is not null
    and col_length(N'dbo.v_data_quality_monitor', N'duplicate_rate') is null
begin
    alter table dbo.v_data_quality_monitor add [duplicate_rate] float null;
end
go
if object_id(N'dbo.v_insight_base', N'U') is not null
begin
    alter table dbo.v_insight_base alter column [substitution_event] bit null;
end
go
if object_id(N'dbo.v_insight_base', N'U') is not null
    and col_length(N'dbo.v_insight_base', N'item_substitution_event') is null
begin
    alter table dbo.v_insight_base
        add [item_substitution_event] bit null, [item_substitution_reason] nvarchar(4000) null;
end
go
if object_id(N'dbo.v_nielsen_complete_analytics', N'U') is not null
begin
    alter table dbo.v_nielsen_complete_analytics alter column [substitution_event] bit null;
end
go
if object_id(N'dbo.v_nielsen_complete_analytics', N'U') is not null
    and col_length(N'dbo.v_nielsen_complete_analytics', N'item_substitution_event') is null
begin
    alter table dbo.v_nielsen_complete_analytics
        add [item_substitution_event] bit null, [item_substitution_reason] nvarchar(4000) null;
end
go
