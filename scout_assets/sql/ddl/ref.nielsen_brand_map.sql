-- Reference: every known brand with its Nielsen category and the confidence of the mapping.
create table if not exists ref.nielsen_brand_map (
    brand_name          varchar not null,
    category_id         integer,
    nielsen_category    varchar,
    nielsen_department  varchar,
    confidence          double not null,
    source              varchar
);
