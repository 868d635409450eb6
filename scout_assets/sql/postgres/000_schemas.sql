-- The consumers' schemas: dbo (served objects), ref (reference maps), audit (logs).
create schema if not exists dbo;
create schema if not exists ref;
create schema if not exists audit;
