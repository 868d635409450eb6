-- Reference: misspellings and speech-to-text variants of brand names.
create table if not exists ref.brand_aliases (
    brand_slug  varchar not null,
    alias       varchar not null
);
