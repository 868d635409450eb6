-- dbo.Transactions carries its plausibility flags (quality_flags, set by silver): the column
-- is added and every month of the table is published again to fill it.
-- Idempotent: a server whose table was created at this shape is left as it is.
if object_id(N'dbo.Transactions', N'U') is not null
    and col_length(N'dbo.Transactions', N'quality_flags') is null
begin
    alter table dbo.Transactions add [quality_flags] nvarchar(max) null;
end
go
if object_id(N'audit.PublishLog', N'U') is not null
begin
    update audit.PublishLog set fingerprint = N'' where object_name = N'dbo.Transactions';
end
go
