-- Brands deliberately without a Nielsen category (no category fits): reported, not an error.
select count(*) as unmapped from ref.nielsen_brand_map where category_id is null;
