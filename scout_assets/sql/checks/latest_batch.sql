-- The latest ingestion batch that listed files (transactions or interactions), if any.
select batch_id
from audit.FileManifest
where file_path not like 'supplements/%'
group by batch_id
order by max(first_seen_at) desc
limit 1;
