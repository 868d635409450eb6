-- dbo.TransactionBaskets for $months: what each basket held.
with kept as (
    select canonical_tx_id, txn_month, txn_ts, store_id
    from dbo.Transactions
    where txn_month = any($months)
),

basket as (
    -- Lists sorted per basket instead of distinct and ordered aggregates (string_agg(distinct
    -- ... order by), count(distinct)), which cost ~5x more; brand and category are never NULL.
    select
        items.canonical_tx_id,
        count(*) as item_count,
        sum(items.quantity) as total_quantity,
        len(list_distinct(list(items.brand_detected))) as distinct_brands,
        len(list_distinct(list(items.nielsen_category))) as distinct_categories,
        sum(items.total_price) as basket_value,
        array_to_string(list_sort(list_distinct(list(items.brand_detected))), ' | ') as brands,
        -- string_agg skips NULL names and is NULL when every name is
        case when count(items.product_name) > 0 then array_to_string(
            list_transform(
                list_sort(list({'item': items.item_sequence, 'name': items.product_name})
                          filter (where items.product_name is not null)),
                line -> line.name
            ),
            ' | '
        ) end as products
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
