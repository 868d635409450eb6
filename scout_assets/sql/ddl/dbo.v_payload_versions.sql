-- Every live payload version with its dedupe verdict (the rule: dbo.payload_versions).
create or replace view dbo.v_payload_versions as
select * from dbo.payload_versions(null, false);
