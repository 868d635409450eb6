-- Months queued for rebuilding before $since: new input, a rollback or a taxonomy change that
-- no run has built yet.
select txn_month, string_agg(distinct reason, ', ') as reasons, min(queued_at) as queued_since
from audit.PendingMonths
where queued_at < $since
group by txn_month
order by txn_month;
