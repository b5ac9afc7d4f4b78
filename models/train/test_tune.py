"""Unit tests of models tune's pure parts, with hand-computed answers; TuneTests (C#) runs them in
./similarity.sh test, beside the end-to-end run against a real database and service."""
import datetime
import os
import sys
import unittest

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import tune  # noqa: E402
import tune_data  # noqa: E402
import tune_model  # noqa: E402
from reference import fuse as reference_fuse  # noqa: E402

UTC = datetime.timezone.utc


def row(request, day, skus, sku, position, kind, query="q"):
    return (request, datetime.datetime(2026, 12, day, 12, tzinfo=UTC), query, skus, sku, position, kind, "v", "v")


class ReadingTests(unittest.TestCase):
    def test_an_npgsql_connection_string_becomes_psycopg2_keywords(self):
        settings = tune_data.connection_settings("Host=127.0.0.1;Port=55001;Username=postgres;Password=a=b;Database=similarity")
        self.assertEqual({"host": "127.0.0.1", "port": "55001", "user": "postgres", "password": "a=b", "dbname": "similarity"}, settings)

    def test_propensities_are_clipped_and_default_to_one(self):
        propensities = {2: 0.5, 3: 0.05, 4: 1.5}
        self.assertEqual(1.0, tune_data.inverse_propensity(1, propensities))  # none estimated
        self.assertAlmostEqual(2.0, tune_data.inverse_propensity(2, propensities))
        self.assertAlmostEqual(10.0, tune_data.inverse_propensity(3, propensities))  # clipped at 0.1
        self.assertAlmostEqual(1.0, tune_data.inverse_propensity(4, propensities))  # clipped at 1

    def test_skipped_above_excludes_items_engaged_in_the_same_list_and_the_strongest_type_weighs(self):
        skus = ["a", "b", "c", "d", "e"]
        index = {s: i for i, s in enumerate(["q"] + skus)}
        rows = [row("r1", 1, skus, "c", 3, "click"), row("r1", 1, skus, "e", 5, "click"), row("r1", 1, skus, "c", 3, "purchase")]
        pairs = tune_data.build_pairs(rows, index, {3: 0.5, 5: 0.25})
        triples = sorted(zip(pairs.positive.tolist(), pairs.negative.tolist(), pairs.weight.tolist()))
        c, e = index["c"], index["e"]
        # c: purchase (4) at position 3 (1/0.5); e: click (2) at position 5 (1/0.25), c not a negative of e.
        self.assertEqual(sorted([(c, index["a"], 8.0), (c, index["b"], 8.0),
                                 (e, index["a"], 8.0), (e, index["b"], 8.0), (e, index["d"], 8.0)]), triples)
        self.assertEqual({"click": 2, "addToCart": 0, "purchase": 1}, pairs.events_by_type)
        self.assertEqual((2, 0, 1), (pairs.engagements, pairs.engagements_without_skipped, pairs.lists))

    def test_a_click_at_the_top_makes_no_pair_but_is_counted(self):
        index = {"q": 0, "a": 1, "b": 2}
        pairs = tune_data.build_pairs([row("r1", 1, ["a", "b"], "a", 1, "click")], index, {})
        self.assertEqual((0, 1, 1), (len(pairs), pairs.engagements, pairs.engagements_without_skipped))

    def test_every_engagement_is_kept_for_the_softmax_position_one_included(self):
        skus = ["a", "b", "c"]
        index = {s: i for i, s in enumerate(["q"] + skus)}
        rows = [row("r1", 1, skus, "a", 1, "click"), row("r1", 1, skus, "c", 3, "click"), row("r1", 1, skus, "c", 3, "addToCart")]
        engaged = tune_data.build_pairs(rows, index, {3: 0.5}).engaged
        # a: click (2) at position 1, no propensity estimated (1); c: addToCart (3) at position 3 (1/0.5).
        self.assertEqual([(0, index["a"], 2.0, 1), (0, index["c"], 6.0, 3)],
                         sorted(zip(engaged.query.tolist(), engaged.item.tolist(), engaged.weight.tolist(), engaged.position.tolist())))

    def test_engagements_are_held_out_from_the_first_held_out_pairs_time(self):
        index = {"q": 0, "a": 1, "b": 2}
        rows = [row(f"r{d}", d, ["a", "b"], "b", 2, "click") for d in range(1, 11)] + [row("r11", 10, ["a", "b"], "a", 1, "click")]
        pairs = tune_data.build_pairs(rows, index, {})
        _, held, _ = tune_data.split_by_days(pairs, 0.2)
        train, held_engaged = tune_data.split_engagements(pairs.engaged, pairs, held)
        days = sorted(datetime.datetime.fromtimestamp(t, UTC).day for t in pairs.engaged.served_at[held_engaged])
        self.assertEqual([9, 10, 10], days)
        self.assertEqual(8, int(train.sum()))

    def test_the_latest_fifth_of_the_days_is_held_out(self):
        index = {"q": 0, "a": 1, "b": 2}
        rows = [row(f"r{d}", d, ["a", "b"], "b", 2, "click") for d in range(1, 11)]
        pairs = tune_data.build_pairs(rows, index, {})
        train, held, _ = tune_data.split_by_days(pairs, 0.2)
        days = [datetime.datetime.fromtimestamp(t, UTC).day for t in pairs.served_at[held]]
        self.assertEqual([9, 10], sorted(days))
        self.assertEqual(8, int(train.sum()))


class FusionTests(unittest.TestCase):
    def test_the_exported_tensors_fuse_raw_vectors_as_the_module_fuses_stored_projections(self):
        """The service (reference.py: numpy, as AttentionFusion.cs) on raw encoder outputs with the exported
        tensors equals the module on the stored projections normalise(W x): the factors fold exactly."""
        rng = np.random.default_rng(7)
        live = {"image_projection": rng.normal(size=(8, 12)), "text_projection": rng.normal(size=(8, 6)),
                "attention_weight": rng.normal(size=(4, 8)), "attention_bias": rng.normal(size=4), "attention_vector": rng.normal(size=4)}
        live = {k: v.astype(np.float32) for k, v in live.items()}
        model = tune_model.TunedFusion(live)
        with torch.no_grad():
            for p in (model.image_factor, model.text_factor):
                p.add_(torch.tensor(rng.normal(scale=0.3, size=(8, 8)), dtype=torch.float32))
            model.fusion.attention_vector.add_(1.0)
        raw_image, raw_text = rng.normal(size=(5, 12)), rng.normal(size=(5, 6))
        unit = lambda m: m / np.linalg.norm(m, axis=1, keepdims=True)  # noqa: E731
        stored_image = torch.tensor(unit(raw_image @ live["image_projection"].T), dtype=torch.float32)
        stored_text = torch.tensor(unit(raw_text @ live["text_projection"].T), dtype=torch.float32)
        present = torch.ones(5, dtype=torch.bool)
        with torch.no_grad():
            fused, image_weight = model(stored_image, stored_text, present, present)
        exported = {k: v.astype(np.float64) for k, v in model.tensors().items()}
        for i in range(5):
            _, weights, expected = reference_fuse(raw_image[i], raw_text[i], exported)
            np.testing.assert_allclose(expected, fused[i].numpy(), atol=1e-5)
            self.assertAlmostEqual(weights[0], float(image_weight[i]), places=5)

    def test_the_softmax_loss_leaves_the_query_out_and_weighs_each_engagement(self):
        candidates = torch.tensor([[1.0, 0.0], [0.0, 1.0], [0.6, 0.8]])
        queries = candidates[[0, 0]]
        tune_model.TEMPERATURE, saved = 0.5, tune_model.TEMPERATURE
        try:
            loss = tune_model.softmax_loss(queries, candidates, torch.arange(3), torch.tensor([0, 0]), [2, 1], [3.0, 1.0])
        finally:
            tune_model.TEMPERATURE = saved
        # Logits over b and c (q left out): 0 and 1.2. Engaged c: log(1 + e^-1.2); engaged b: log(1 + e^1.2); weights 3:1.
        expected = (3 * np.log1p(np.exp(-1.2)) + np.log1p(np.exp(1.2))) / 4
        self.assertAlmostEqual(expected, float(loss), places=5)

    def test_the_engaged_items_recall_counts_those_in_their_querys_top_k(self):
        fused = torch.nn.functional.normalize(torch.tensor([[1.0, 0.0], [0.9, 0.1], [0.5, 0.5], [0.0, 1.0]]), dim=-1)
        engaged = tune_data.Engagements(np.array([0, 0]), np.array([1, 3]), np.array([1.0, 3.0], np.float32), np.array([1, 2]), np.zeros(2))
        _, recall = tune_model.engaged_loss_and_recall(fused, engaged, k=2)
        # Item 1 is query 0's nearest (in the top 2), item 3 its farthest (not): weights 1 and 3.
        self.assertAlmostEqual(0.25, recall, places=6)

    def test_a_missing_modality_gives_the_other_ones_vector(self):
        rng = np.random.default_rng(3)
        live = {"image_projection": np.eye(4, dtype=np.float32), "text_projection": np.eye(4, dtype=np.float32),
                "attention_weight": rng.normal(size=(2, 4)).astype(np.float32), "attention_bias": np.zeros(2, np.float32),
                "attention_vector": np.ones(2, np.float32)}
        model = tune_model.TunedFusion(live)
        text = torch.tensor([[0.0, 0.6, 0.8, 0.0]])
        with torch.no_grad():
            fused, image_weight = model(torch.zeros(1, 4), text, torch.tensor([False]), torch.tensor([True]))
        np.testing.assert_allclose(text.numpy(), fused.numpy(), atol=1e-6)
        self.assertEqual(0.0, float(image_weight[0]))


class SettingsTests(unittest.TestCase):
    def test_the_default_is_the_measured_softmax_and_pairwise_keeps_its_distillation(self):
        bare = tune.arguments([])
        self.assertEqual(("softmax", 3.0), (bare.objective, bare.distill_weight))
        pairwise = tune.arguments(["--objective", "pairwise"])
        self.assertEqual(("pairwise", 10.0), (pairwise.objective, pairwise.distill_weight))
        self.assertEqual(5.0, tune.arguments(["--objective", "pairwise", "--distill-weight", "5"]).distill_weight)


if __name__ == "__main__":
    unittest.main()
