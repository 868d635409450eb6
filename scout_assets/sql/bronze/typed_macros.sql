-- Readers of delivered values for the typed stage (sql/bronze/typed_*.sql). Each gives NULL
-- unless the value has a shape the Python rules (scout_assets/bronze/values.py) read to the
-- same result, so a NULL where a value was delivered sends the record to the rules.

-- Money with at most two decimals, not negative: decimal(12, 2).
create or replace temp macro scout_money(t) as
    if(regexp_full_match(t, '[0-9]{1,10}(\.[0-9]{1,2})?'), t::decimal(12, 2), null);

-- A whole number that fits a 32-bit column.
create or replace temp macro scout_whole(t) as
    if(regexp_full_match(t, '[0-9]{1,9}'), t::integer, null);

-- A plain decimal number (no exponent, NaN or Infinity).
create or replace temp macro scout_number(t) as
    if(regexp_full_match(t, '-?[0-9]{1,15}(\.[0-9]{1,17})?'), t::double, null);

-- A JSON boolean.
create or replace temp macro scout_flag(t) as
    case t when 'true' then true when 'false' then false end;

-- The timestamps the devices write: Manila local, or UTC with a Z, or +08:00.
create or replace temp macro scout_timestamp(t) as
    case
        when not regexp_full_match(left(t, 19), '[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}')
            then null
        when length(t) = 19 then try_strptime(t, '%Y-%m-%dT%H:%M:%S')
        when length(t) = 20 and t[20] = 'Z'
            then try_strptime(left(t, 19), '%Y-%m-%dT%H:%M:%S') + interval 8 hour
        when length(t) = 25 and t[20:] = '+08:00' then try_strptime(left(t, 19), '%Y-%m-%dT%H:%M:%S')
    end;

-- Free text as the rules keep it: blank as NULL. (Text with whitespace to strip is
-- scout_ambiguous: the rules strip it.)
create or replace temp macro scout_text(t) as nullif(t, '');

-- Text the rules read differently from DuckDB: starting or ending with a character Python's
-- str.isspace() is true for (the rules strip it), or whose JSON type decides what the rules
-- keep (2.0 the number is "2", "2.0" the string is "2.0"; objects are re-serialised).
create or replace temp macro scout_ambiguous(t) as
    case
        when t is null then false
        when ascii(t) in (9, 10, 11, 12, 13, 28, 29, 30, 31, 32, 133, 160, 5760, 8192, 8193, 8194, 8195, 8196, 8197,
                      8198, 8199, 8200, 8201, 8202, 8232, 8233, 8239, 8287, 12288,
                          123, 91) then true  -- '{', '['
        when ascii(t[-1]) in (9, 10, 11, 12, 13, 28, 29, 30, 31, 32, 133, 160, 5760, 8192, 8193, 8194, 8195, 8196, 8197,
                      8198, 8199, 8200, 8201, 8202, 8232, 8233, 8239, 8287, 12288) then true
        when ascii(t) between 45 and 57  -- '-', '.', digits
            then regexp_full_match(t, '-?[0-9]+\.0|-?[0-9.]+[eE][-+]?[0-9]+')
        else false
    end;

-- A JSON boolean read as text: not an id (the rules refuse true and false as ids).
create or replace temp macro scout_boolean(t) as coalesce(t in ('true', 'false'), false);
