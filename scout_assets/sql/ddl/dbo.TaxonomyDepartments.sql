-- Reference: Nielsen/Kantar departments deployed in production.
create table if not exists dbo.TaxonomyDepartments (
    department_id    integer not null,
    department_code  varchar not null,
    department_name  varchar not null,
    description      varchar,
    sort_order       integer
);
