-- Reference: provinces that stores sit in (no national master was published).
create table if not exists dbo.Province (
    province_name  varchar not null,
    region_code    varchar
);
