-- Reference: the 17 Philippine regions.
create table if not exists dbo.Region (
    region_code          varchar not null,
    region_name          varchar not null,
    region_name_local    varchar,
    centroid_latitude    double,
    centroid_longitude   double,
    area_sqkm            double,
    population_estimate  bigint
);
