-- The time each transaction's interaction gives it. When two interactions claim one
-- transaction the earliest wins (the device records the interaction before the sale closes);
-- the conflict itself is counted by a check.
create or replace view dbo.v_interaction_times as
select
    canonical_tx_id,
    min(transaction_date) as transaction_date,
    count(*) as interaction_count
from dbo.SalesInteractions
where transaction_date is not null
group by canonical_tx_id;
