-- Ceilings beyond which an amount is not believed (a sari-sari sale is small): silver flags a
-- transaction above them and scores it 0.5. Seeded from scout_assets/reference_data/
-- plausibility_limits.csv; a supplement workbook with limit_name and pesos overrides them.
create table if not exists ref.plausibility_limits (
    limit_name  varchar not null,  -- transaction_total / item_line
    pesos       decimal(12, 2) not null,
    note        varchar
);
