-- Business rules for item pages (issue #14): on `sku`'s page, pin `other_sku` at `position`, or never show it.
-- `both_ways` applies the rule on `other_sku`'s page too (pinning `sku` there). One rule per pair of items, in
-- either direction: the API replaces (a, b) and (b, a) together. SKUs need not exist yet (a rule may come first).
CREATE TABLE similar_rules (
    sku        text NOT NULL,
    other_sku  text NOT NULL,
    kind       text NOT NULL CHECK (kind IN ('pin', 'block')),
    position   integer CHECK (position BETWEEN 1 AND 100),
    both_ways  boolean NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (sku, other_sku),
    CHECK (sku <> other_sku),
    CHECK ((kind = 'pin') = (position IS NOT NULL))
);
-- The page of `other_sku` reads the rules made both ways from the other side.
CREATE INDEX similar_rules_other ON similar_rules (other_sku) WHERE both_ways;
