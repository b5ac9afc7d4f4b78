-- Each item's picture sketch (Insight/PictureSketch: a 48 × 48 grey copy, 2 304 bytes), read by the duplicate groups
-- and the import checks to tell a copy of a picture (a resize, a re-encode, a crop) from a sibling of one icon set,
-- which the image vectors place as close. Made from the stored thumbnail (item_pictures.thumb_jpeg) by
-- Insight/PictureSketches: for an import job's items at its end, for any other item when the duplicate groups are read
-- or the clustering duty looks. A row is current while its image_sha256 is the item's; readers join on both.
CREATE TABLE picture_sketches (
    sku          text PRIMARY KEY REFERENCES items (sku) ON DELETE CASCADE,
    image_sha256 bytea NOT NULL,   -- the uploaded bytes the sketched thumbnail was made from (items.image_sha256)
    grey         bytea NOT NULL    -- 48 × 48 grey bytes, row by row
);
