-- Each supplement path's latest version that passed validation.
select file_path, file_hash, content
from audit.SupplementVersions
qualify row_number() over (partition by file_path order by accepted_at desc, file_hash) = 1;
