-- The consumers' schemas: dbo (served objects), ref (reference maps), audit (logs).
-- scout_stage holds the publisher's bulk-copy stages while a unit runs.
if schema_id(N'ref') is null
begin
    exec sp_executesql N'create schema ref';
end
go
if schema_id(N'audit') is null
begin
    exec sp_executesql N'create schema audit';
end
go
if schema_id(N'scout_stage') is null
begin
    exec sp_executesql N'create schema scout_stage';
end
go
