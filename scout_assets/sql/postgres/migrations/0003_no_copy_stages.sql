-- PostgreSQL units COPY straight into the target inside their own transaction: the
-- scout_stage schema (committed COPY stages, and any a killed publish left) goes.
drop schema if exists scout_stage cascade;
