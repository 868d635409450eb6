-- dbo.Transactions carries its plausibility flags (quality_flags, set by silver): the column
-- is added and every month of the table is published again to fill it.
-- Idempotent: a server whose table was created at this shape is left as it is.
alter table if exists dbo.transactions add column if not exists quality_flags text;
do $$
begin
    if to_regclass('audit.publishlog') is not null then
        update audit.publishlog set fingerprint = '' where object_name = 'dbo.Transactions';
    end if;
end
$$;
