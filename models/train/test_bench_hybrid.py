"""Unit tests of bench_hybrid.py's pure parts (the fusion it mirrors from the service, and the expansions tried for the
folder targets), with hand-computed answers; BenchScriptTests (C#) runs them in ./similarity.sh test."""
import os
import sys
import unittest

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench_hybrid  # noqa: E402


class FusionTests(unittest.TestCase):
    def test_rrf_adds_each_lists_share_of_one_over_60_plus_rank(self):
        # a: 0.5/61 (vector only); b: 0.5/62 + 0.5/61 (both); c: 0.5/62 (lexical only).
        fused = bench_hybrid.fuse([("a", 0.9), ("b", 0.8)], [("b", 1.0), ("c", 0.5)], "rrf", 0.5)
        self.assertEqual(["b", "a", "c"], fused)

    def test_rrf_at_weight_zero_is_the_vector_order(self):
        self.assertEqual(["a", "b", "c"], bench_hybrid.fuse([("a", 0.9), ("b", 0.8)], [("c", 1.0)], "rrf", 0.0))


class ExpansionTests(unittest.TestCase):
    def test_second_order_mixes_in_the_nearest_items_similarities(self):
        s = np.array([[1.0, 0.5, 0.0], [0.5, 1.0, 0.2], [0.0, 0.2, 1.0]])
        # Nearest other: 0 → 1, 1 → 0, 2 → 1; half of S plus half of that neighbour's row.
        expected = np.array([[0.75, 0.75, 0.1], [0.75, 0.75, 0.1], [0.25, 0.6, 0.6]])
        np.testing.assert_allclose(bench_hybrid.second_order(s, 1, 0.5), expected)

    def test_average_expansion_is_the_cube_weighted_mean_of_itself_and_its_nearest(self):
        v = np.array([[1.0, 0.0], [0.6, 0.8], [0.0, 1.0]])
        expanded = bench_hybrid.average_expansion(v, v @ v.T, 1)
        # Item 0: itself (cos 1, weight 1) and item 1 (cos 0.6, weight 0.216): (1 + 0.1296, 0.1728), unit length.
        first = np.array([1.1296, 0.1728])
        np.testing.assert_allclose(expanded[0], first / np.linalg.norm(first))
        np.testing.assert_allclose(np.linalg.norm(expanded, axis=1), 1.0)


if __name__ == "__main__":
    unittest.main()
