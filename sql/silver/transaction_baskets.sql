-- dbo.TransactionBaskets for $months: what each basket held.
with kept as (
    select canonical_tx_id, txn_month, txn_ts, store_id
    from dbo.Transactions
    where txn_month = any($months)
),

basket as (
    select
        items.canonical_tx_id,
        count(*) as item_count,
        sum(items.quantity) as total_quantity,
        count(distinct items.brand_detected) as distinct_brands,
        count(distinct items.nielsen_category) as distinct_categories,
        sum(items.total_price) as basket_value,
        string_agg(distinct items.brand_detected, ' | ' order by items.brand_detected) as brands,
        string_agg(items.product_name, ' | ' order by items.item_sequence) as products
    from dbo.TransactionItems as items
    semi join kept using (canonical_tx_id)
    group by items.canonical_tx_id
)

select
    kept.*,
    coalesce(basket.item_count, 0) as item_count,
    basket.total_quantity,
    coalesce(basket.distinct_brands, 0) as distinct_brands,
    coalesce(basket.distinct_categories, 0) as distinct_categories,
    case
        when basket.item_count is null then 'empty'  -- items missing or not a list
        when basket.item_count = 1 then '1'
        when basket.item_count <= 3 then '2-3'
        when basket.item_count <= 6 then '4-6'
        else '7+'
    end as basket_size,
    basket.basket_value,
    basket.brands,
    basket.products
from kept
left join basket using (canonical_tx_id);
