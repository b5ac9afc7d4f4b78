"""What `models tune` learns from, read from the service's database: the live model set, the logged
(query, engaged, skipped-above) pairs with their weights, and every item's stored per-modality vectors.

A pair comes from one served list of the live set (served_lists, by its fingerprint) with a click, addToCart or
purchase at position p: the query is the list's query item, the positive the engaged item, and each item shown
above it that nobody engaged with in that list is a negative (skipped-above). Its weight is the event type's
weight times the inverse propensity of p (position_propensities, clipped; 1 where none is estimated). Bot visitors
(bot_visitors) are left out, as the rest of the loop leaves them out.
"""
import datetime
import os
from dataclasses import dataclass, field

import numpy as np

# The event types learned from and their weights (Similarity:Feedback:Weights' defaults: a purchase says more than
# a click). Views are not engagements with a result: they never make a pair.
TYPE_WEIGHTS = {"click": 2.0, "addToCart": 3.0, "purchase": 4.0}
# Propensities below this are clipped to it: at most a 10x weight, so a few clicks deep in a list cannot dominate.
MIN_PROPENSITY = 0.1

PAIRS_SQL = """
SELECT s.request_id::text, s.served_at, s.query_sku, s.skus, e.sku, e.position, e.type, s.visitor_id, e.visitor_id
FROM events e
JOIN served_lists s ON s.request_id = e.request_id AND s.query_sku = coalesce(e.source_sku, s.query_sku)
WHERE e.type = ANY(%(types)s) AND e.position IS NOT NULL
  AND s.fingerprint = %(fingerprint)s AND s.query_sku IS NOT NULL
  AND e.position BETWEEN 1 AND cardinality(s.skus) AND s.skus[e.position] = e.sku
  AND NOT EXISTS (SELECT 1 FROM bot_visitors b WHERE b.visitor_id = e.visitor_id)
  AND NOT EXISTS (SELECT 1 FROM bot_visitors b WHERE b.visitor_id = s.visitor_id)
ORDER BY s.served_at, s.request_id, e.position
"""


@dataclass
class LiveSet:
    name: str
    fingerprint: str
    directory: str


@dataclass
class Pairs:
    """Training triples as item indices, with weights and the day each list was served."""
    query: np.ndarray
    positive: np.ndarray
    negative: np.ndarray
    weight: np.ndarray
    served_at: np.ndarray  # seconds since the epoch
    engagements: int = 0  # engaged (list, item) cases, one per item engaged in a list
    engagements_without_skipped: int = 0  # engaged at position 1 or below only engaged items: no negative
    events_by_type: dict = field(default_factory=dict)
    lists: int = 0
    engaged: "Engagements | None" = None  # every engagement, with or without a skipped item above it

    def __len__(self):
        return len(self.query)

    def subset(self, mask):
        return Pairs(self.query[mask], self.positive[mask], self.negative[mask], self.weight[mask], self.served_at[mask])


@dataclass
class Engagements:
    """One row per item engaged in a served list (position 1 included): the query, the engaged item, its weight
    (strongest type's weight × inverse propensity of its position), its position and when the list was served. The
    softmax objective learns from these, the whole catalog as negatives."""
    query: np.ndarray
    item: np.ndarray
    weight: np.ndarray
    position: np.ndarray
    served_at: np.ndarray

    def __len__(self):
        return len(self.query)

    def subset(self, mask):
        return Engagements(self.query[mask], self.item[mask], self.weight[mask], self.position[mask], self.served_at[mask])


@dataclass
class Items:
    """Every item of the live set with its stored vectors: projected image and text (unit vectors in the fused
    space, as the service stores them; zeros where a modality is missing) and the fused vector it serves with."""
    skus: list
    image: np.ndarray
    text: np.ndarray
    has_image: np.ndarray
    has_text: np.ndarray
    fused: np.ndarray
    with_events: np.ndarray  # an event of any type (as its item or its list's query), or a place in a training pair
    named_by_events: np.ndarray = None  # an event of any type names it (its item or its source): pairs' negatives aside

    def index(self):
        return {sku: i for i, sku in enumerate(self.skus)}


def connection_settings(text):
    """psycopg2's keywords from an Npgsql connection string (Host=...;Port=...;Username=...;Password=...;Database=...)."""
    names = {"host": "host", "server": "host", "port": "port", "username": "user", "user id": "user", "userid": "user",
             "user": "user", "password": "password", "database": "dbname", "sslmode": "sslmode"}
    settings = {}
    for part in text.split(";"):
        if "=" not in part:
            continue
        key, value = part.split("=", 1)
        key = key.strip().lower()
        if key in names:
            settings[names[key]] = value.strip()
    if "host" not in settings:
        raise ValueError("the connection string names no Host")
    return settings


def connect(connection_string):
    import psycopg2

    text = connection_string or os.environ.get("ConnectionStrings__Similarity")
    if not text:
        raise SystemExit("no database: pass --connection or set ConnectionStrings__Similarity (./similarity.sh models tune sets it)")
    return psycopg2.connect(**connection_settings(text))


def live_set(cursor):
    cursor.execute("SELECT name, fingerprint, directory FROM model_sets WHERE status = 'live'")
    row = cursor.fetchone()
    if row is None:
        raise SystemExit("no live model set in model_sets: start the service once so it registers its set")
    return LiveSet(*row)


def parse_vector(text):
    """pgvector's text form '[0.1,0.2,...]'."""
    return np.array(text[1:-1].split(","), dtype=np.float32)


def read_items(cursor, fingerprint):
    cursor.execute("""SELECT sku, image_embedding::text, text_embedding::text, embedding::text FROM items
                      WHERE fingerprint = %s ORDER BY sku""", (fingerprint,))
    rows = cursor.fetchall()
    if not rows:
        raise SystemExit(f"no item holds vectors of the live set ({fingerprint})")
    dimension = len(parse_vector(rows[0][3]))
    n = len(rows)
    image, text, fused = (np.zeros((n, dimension), np.float32) for _ in range(3))
    has_image, has_text = np.zeros(n, bool), np.zeros(n, bool)
    for i, (_, image_text, text_text, fused_text) in enumerate(rows):
        fused[i] = parse_vector(fused_text)
        if image_text is not None:
            image[i], has_image[i] = parse_vector(image_text), True
        if text_text is not None:
            text[i], has_text[i] = parse_vector(text_text), True
    return Items([r[0] for r in rows], image, text, has_image, has_text, fused, np.zeros(n, bool))


def read_propensities(cursor):
    cursor.execute("SELECT position, propensity FROM position_propensities")
    return {int(p): float(v) for p, v in cursor.fetchall()}


def inverse_propensity(position, propensities):
    """1 / propensity of the position, the propensity clipped to [MIN_PROPENSITY, 1]; 1 where none is estimated."""
    if position not in propensities:
        return 1.0
    return 1.0 / min(1.0, max(MIN_PROPENSITY, propensities[position]))


def build_pairs(rows, index, propensities):
    """Triples from the joined (list, engagement) rows: one positive per item engaged in a list (its strongest event
    type's weight), and each item above it in the list that was not engaged there as a negative."""
    lists = {}
    events_by_type = {t: 0 for t in TYPE_WEIGHTS}
    for request_id, served_at, query, skus, sku, position, kind, _, _ in rows:
        events_by_type[kind] += 1
        entry = lists.setdefault((request_id, query), {"served_at": served_at, "skus": skus, "engaged": {}})
        best = entry["engaged"].get(sku)
        if best is None or TYPE_WEIGHTS[kind] > best[1]:
            entry["engaged"][sku] = (position, TYPE_WEIGHTS[kind])
    query, positive, negative, weight, served = [], [], [], [], []
    engaged_rows = []
    engagements = without_skipped = 0
    for (_, query_sku), entry in lists.items():
        if query_sku not in index:
            continue
        engaged = entry["engaged"]
        when = entry["served_at"].timestamp()
        for sku, (position, type_weight) in engaged.items():
            if sku not in index:
                continue
            engagements += 1
            above = [s for s in entry["skus"][:position - 1] if s not in engaged and s in index]
            if not above:
                without_skipped += 1
            w = type_weight * inverse_propensity(position, propensities)
            engaged_rows.append((index[query_sku], index[sku], w, position, when))
            for s in above:
                query.append(index[query_sku]), positive.append(index[sku]), negative.append(index[s])
                weight.append(w), served.append(when)
    pairs = Pairs(np.array(query, np.int64), np.array(positive, np.int64), np.array(negative, np.int64),
                  np.array(weight, np.float32), np.array(served, np.float64))
    pairs.engagements, pairs.engagements_without_skipped = engagements, without_skipped
    pairs.events_by_type, pairs.lists = events_by_type, len(lists)
    columns = list(zip(*engaged_rows)) if engaged_rows else [[], [], [], [], []]
    pairs.engaged = Engagements(np.array(columns[0], np.int64), np.array(columns[1], np.int64), np.array(columns[2], np.float32),
                                np.array(columns[3], np.int64), np.array(columns[4], np.float64))
    return pairs


def read_all(connection_string):
    """The live set, its items and the pairs, in one read-only transaction (one consistent snapshot)."""
    import psycopg2

    try:
        return read_snapshot(connection_string)
    except psycopg2.errors.UndefinedTable as error:
        raise SystemExit(f"the database lacks a table ({error.diag.message_primary}): start the service on it once "
                         "(it applies its migrations), or pass --connection") from None
    except psycopg2.OperationalError as error:
        raise SystemExit(f"cannot reach the database: {str(error).strip()}") from None


def read_snapshot(connection_string):
    with connect(connection_string) as connection:
        connection.set_session(readonly=True, isolation_level="REPEATABLE READ")
        with connection.cursor() as cursor:
            live = live_set(cursor)
            items = read_items(cursor, live.fingerprint)
            index = items.index()
            propensities = read_propensities(cursor)
            cursor.execute(PAIRS_SQL, {"types": list(TYPE_WEIGHTS), "fingerprint": live.fingerprint})
            pairs = build_pairs(cursor.fetchall(), index, propensities)
            cursor.execute("SELECT sku FROM events UNION SELECT source_sku FROM events WHERE source_sku IS NOT NULL")
            for (sku,) in cursor.fetchall():
                if sku in index:
                    items.with_events[index[sku]] = True
    items.named_by_events = items.with_events.copy()
    for column in (pairs.query, pairs.positive, pairs.negative):
        items.with_events[column] = True
    return live, items, pairs, propensities


def split_by_days(pairs, held_out_share):
    """The latest share of the days with pairs held out (at least one day); with a single day, the latest share of
    its pairs by time. Returns (train mask, held-out mask, description)."""
    days = np.array([datetime.datetime.fromtimestamp(t, datetime.timezone.utc).date().toordinal() for t in pairs.served_at])
    distinct = np.unique(days)
    if len(distinct) >= 2:
        held = max(1, int(round(len(distinct) * held_out_share)))
        first_held = distinct[-held]
        mask = days >= first_held
        return ~mask, mask, f"the latest {held} of {len(distinct)} days (from {datetime.date.fromordinal(int(first_held))})"
    order = np.argsort(pairs.served_at, kind="stable")
    mask = np.zeros(len(pairs), bool)
    mask[order[int(len(pairs) * (1 - held_out_share)):]] = True
    return ~mask, mask, f"one day only: the latest {held_out_share:.0%} of its pairs by time"


def split_engagements(engaged, pairs, held_mask):
    """The engagements split where the pairs were: those served from the first held-out pair's time on are held out
    (a list's engagements all fall on one side, and none learned from is later than one judged by)."""
    if not held_mask.any():
        return np.ones(len(engaged), bool), np.zeros(len(engaged), bool)
    held = engaged.served_at >= pairs.served_at[held_mask].min()
    return ~held, held
