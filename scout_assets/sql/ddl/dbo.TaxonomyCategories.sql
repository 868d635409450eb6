-- Reference: Nielsen categories with their group and department.
create table if not exists dbo.TaxonomyCategories (
    category_id            integer not null,
    category_code          varchar not null,
    category_name          varchar not null,
    filipino_name          varchar,
    typical_brands         varchar,
    category_group_id      integer,
    group_code             varchar,
    group_name             varchar,
    nielsen_category_code  varchar,
    kantar_category_code   varchar,
    department_id          integer,
    department_name        varchar,
    sort_order             integer
);
