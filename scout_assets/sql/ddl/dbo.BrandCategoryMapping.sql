-- Reference: the mandatory brand -> Nielsen category mapping.
create table if not exists dbo.BrandCategoryMapping (
    brand_name      varchar not null,
    category_id     integer not null,
    mapping_source  varchar
);
