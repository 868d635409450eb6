-- The payloads taken whole: clean, every item clean, and the items add up to the total.
create or replace temp table typed_payload_taken as
select p.record_id
from typed_payloads as p
left join (
    select record_id, bool_and(clean) as clean, sum(total_price) as items_sum
    from typed_items
    group by record_id
) as i using (record_id)
where p.clean
  and coalesce(i.clean, true)
  and abs(coalesce(i.items_sum, 0) - p.total_amount) <= 0.01;
