-- Reference: the stores whose devices send payloads (shipped seed, updated from supplements).
create table if not exists dbo.Stores (
    StoreID           integer not null,
    StoreName         varchar,
    DeviceID          varchar,
    BarangayName      varchar,
    MunicipalityName  varchar,
    ProvinceName      varchar,
    Region            varchar,
    GeoLatitude       double,
    GeoLongitude      double,
    source            varchar not null
);
