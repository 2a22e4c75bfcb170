"""Match a stream of posts against every active query at once (docs/listening.md#matcher).

    matcher = Matcher({"q1": parse("iberia NOT empleo"), ...})
    matcher.match(posts)  # → [["q1"], [], ...]: the ids of the queries each post matches

Two steps: the prefilter finds, for a whole batch in one Hyperscan scan and a few substring tests,
the few queries each post could match; each of those is then evaluated exactly on the post's word
index. The answers are the reference evaluator's (query/reference.py), which a property-based
test checks.
"""

from __future__ import annotations

import gc
from collections.abc import Mapping, Sequence

from tertulia.listening.matcher.evaluate import Index, compile_query
from tertulia.listening.matcher.prefilter import Prefilter, needs
from tertulia.listening.query import ParsedQuery, Post
from tertulia.listening.query.folding import fold_many

# Posts are folded and scanned this many at a time: big enough that per-call costs vanish,
# small enough that a batch's buffers stay in the CPU cache.
BATCH = 500


class Matcher:
    def __init__(self, queries: Mapping[str, ParsedQuery]) -> None:
        self.ids = list(queries)
        # Compiling makes hundreds of thousands of small objects that all live on; the garbage
        # collector's passes over them cost 90 % of the time at 10,000 queries (bench/listening_matcher.py).
        collecting = gc.isenabled()
        gc.disable()
        try:
            self.tests = [compile_query(queries[query_id].root) for query_id in self.ids]
            self.prefilter = Prefilter([needs(queries[query_id].root) for query_id in self.ids])
        finally:
            if collecting:
                gc.enable()

    def __len__(self) -> int:
        return len(self.ids)

    def match(self, posts: Sequence[Post]) -> list[list[str]]:
        results: list[list[str]] = []
        for start in range(0, len(posts), BATCH):
            results.extend(self._match_batch(posts[start : start + BATCH]))
        return results

    def _match_batch(self, posts: Sequence[Post]) -> list[list[str]]:
        folded = fold_many([post.text for post in posts])
        # Most posts match nothing: they get an empty list and no other Python work.
        results: list[list[str]] = [[] for _ in posts]
        tests, ids = self.tests, self.ids
        for number, queries in self.prefilter.candidates(folded, posts).items():
            index = Index(posts[number], folded[number])
            results[number] = [ids[query] for query in queries if tests[query](index)]
        return results
