"""Match a stream of posts against every active query at once (docs/listening.md#matcher).

    matcher = Matcher({"q1": parse("iberia NOT empleo"), ...})
    matcher.match(posts)  # → [["q1"], [], ...]: the ids of the queries each post matches

Two steps: the prefilter finds, for a whole batch in one Hyperscan scan, the few queries each post
could match; each of those is then evaluated exactly on the post's word index. The answers are
the reference evaluator's (query/reference.py), which a property-based test checks.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from tertulia.listening.matcher.evaluate import Index, compile_query
from tertulia.listening.matcher.prefilter import Prefilter, field_view, requirement
from tertulia.listening.query import ParsedQuery, Post, prepare
from tertulia.listening.query.folding import fold_many

# Posts are folded and scanned this many at a time: big enough that per-call costs vanish,
# small enough that a batch's buffers stay in the CPU cache.
BATCH = 500


class Matcher:
    def __init__(self, queries: Mapping[str, ParsedQuery]) -> None:
        self.ids = list(queries)
        self.tests = [compile_query(queries[query_id].root) for query_id in self.ids]
        self.prefilter = Prefilter([requirement(queries[query_id].root) for query_id in self.ids])

    def __len__(self) -> int:
        return len(self.ids)

    def match(self, posts: Sequence[Post]) -> list[list[str]]:
        results: list[list[str]] = []
        for start in range(0, len(posts), BATCH):
            results.extend(self._match_batch(posts[start : start + BATCH]))
        return results

    def _match_batch(self, posts: Sequence[Post]) -> list[list[str]]:
        folded = fold_many([post.text for post in posts])
        views = (
            [field_view(post.author, post.lang, post.network, post.channel, post.url) for post in posts]
            if self.prefilter.fields
            else None
        )
        results: list[list[str]] = []
        for post, text, candidates in zip(
            posts, folded, self.prefilter.candidates(folded, views), strict=True
        ):
            if not candidates:
                results.append([])
                continue
            index = Index.of(prepare(post, text))
            tests, ids = self.tests, self.ids
            results.append([ids[query] for query in sorted(candidates) if tests[query](index)])
        return results
