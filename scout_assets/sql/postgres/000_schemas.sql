-- The consumers' schemas: dbo (served objects), ref (reference maps), audit (logs).
-- scout_stage holds the publisher's COPY stages while a unit runs.
create schema if not exists dbo;
create schema if not exists ref;
create schema if not exists audit;
create schema if not exists scout_stage;
