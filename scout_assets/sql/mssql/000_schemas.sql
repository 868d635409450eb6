-- The consumers' schemas: dbo (served objects), ref (reference maps), audit (logs).
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
