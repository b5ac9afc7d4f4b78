-- Category and brand filters match case-insensitively (issue #11): "category=Mugs" finds items stored as "mugs".
DROP INDEX items_category;
DROP INDEX items_brand;
CREATE INDEX items_category ON items (lower(category));
CREATE INDEX items_brand ON items (lower(brand));
