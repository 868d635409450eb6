-- Reference: the devices' own category names mapped to Nielsen categories.
create table if not exists ref.observed_category_map (
    observed_category  varchar not null,
    category_name      varchar not null,
    department_name    varchar
);
