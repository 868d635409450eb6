-- Reference: municipalities/cities that stores sit in.
create table if not exists dbo.Municipality (
    municipality_name  varchar not null,
    province_name      varchar not null,
    region_code        varchar
);
