"""Who meets whom in a round: a pure function of the pool, the history and a seed.

Every member of the pool is put in exactly one group: pairs, and one trio when the pool is odd.
Each possible pair has a cost (lower is better):

- ``REPEAT`` for each earlier meeting of the two (so a pair repeats only when no grouping
  without a repeat was found);
- ``TRIO`` for each earlier trio of each member of a trio (the trio goes round);
- ``SAME_TERRITORY`` and ``SAME_CATEGORY`` when both gave the same territory or category (an
  élu with an agent of another commune before two agents of the same one);
- minus ``SHARED`` for each interest they share (at most three): something to talk about;
- a small jitter drawn from the seed, so rounds vary and equal costs are broken the same way
  for the same seed.

Small pools are solved exactly: a maximum-weight perfect matching (Edmonds' blossom algorithm,
from networkx) on the complete graph; an odd pool of at most ``TRIO_EXACT`` members tries every
trio and matches the rest. Larger pools use a greedy matching over a shuffled order (each member
takes the cheapest of the next ``WINDOW`` candidates, stopping at an ideal one), then a local
search that swaps members between groups while it lowers the cost: first for groups holding a
repeat (against every other group), then for groups that do not mix (against a few). Described
in ``docs/design.md`` ("Members").
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from bot.core import InvalidValue

REPEAT = 1_000_000
TRIO = 1_000
SAME_TERRITORY = 60
SAME_CATEGORY = 40
SHARED = 5
MAX_SHARED = 3
JITTER = 10

EXACT_LIMIT = 40
"""Pools up to this size are matched exactly (the blossom algorithm is cubic)."""
TRIO_EXACT = 11
"""Odd pools up to this size try every trio."""
WINDOW = 64
"""Candidates the greedy matching looks at for each member of a large pool."""
MIX_TRIES = 48
"""Other groups a group that does not mix is tried against in the local search."""


@dataclass(frozen=True, slots=True)
class Candidate:
    """A member as the pairing sees them."""

    id: int
    category: str | None = None
    territory: str | None = None
    """Compared as given: the caller folds it."""
    interests: frozenset[str] = field(default_factory=frozenset)
    """Theme keys."""
    trios: int = 0
    """How many times this member was already in a trio."""


History = Mapping[frozenset[int], int]
"""How many times each pair (a frozenset of two ids) already met."""

Group = tuple[int, ...]


class _Costs:
    def __init__(self, pool: Sequence[Candidate], history: History, seed: int) -> None:
        self.by_id = {c.id: c for c in pool}
        self.history = history
        self.seed = seed & 0xFFFFFFFF

    def pair(self, a: int, b: int) -> int:
        if a > b:
            a, b = b, a
        x, y = self.by_id[a], self.by_id[b]
        cost = REPEAT * self.history.get(frozenset((a, b)), 0)
        if x.territory is not None and x.territory == y.territory:
            cost += SAME_TERRITORY
        if x.category is not None and x.category == y.category:
            cost += SAME_CATEGORY
        if x.interests and y.interests:
            cost -= SHARED * min(MAX_SHARED, len(x.interests & y.interests))
        return cost + _jitter(self.seed, a, b)

    def group(self, members: Sequence[int]) -> int:
        cost = sum(self.pair(a, b) for a, b in itertools.combinations(members, 2))
        if len(members) == 3:
            cost += TRIO * sum(self.by_id[m].trios for m in members)
        return cost


def _jitter(seed: int, a: int, b: int) -> int:
    """A deterministic number in ``[0, JITTER)`` for the pair (a splitmix-style mix)."""
    z = (seed * 0x9E3779B1 + a * 0x85EBCA77 + b * 0xC2B2AE3D) & 0xFFFFFFFFFFFFFFFF
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & 0xFFFFFFFFFFFFFFFF
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & 0xFFFFFFFFFFFFFFFF
    return (z ^ (z >> 31)) % JITTER


def group_members(
    pool: Iterable[Candidate],
    history: History,
    seed: int,
    *,
    exact_limit: int = EXACT_LIMIT,
) -> list[Group]:
    """The groups of a round: pairs, and one trio when the pool is odd; sorted, deterministic
    for the same pool, history and seed (whatever the order of ``pool``)."""
    members = sorted(pool, key=lambda c: c.id)
    if len({c.id for c in members}) != len(members):
        raise InvalidValue("a member is twice in the pool")
    if len(members) < 2:
        return []
    costs = _Costs(members, history, seed)
    ids = [c.id for c in members]
    if len(ids) <= 3:
        groups: list[Group] = [tuple(ids)]
    elif len(ids) <= exact_limit:
        groups = _exact(ids, costs)
    else:
        groups = _greedy(ids, costs, random.Random(seed))
    return sorted(tuple(sorted(g)) for g in groups)


# --- exact ---------------------------------------------------------------------------------------


def _matching(ids: Sequence[int], costs: _Costs) -> tuple[list[Group], int]:
    """The cheapest perfect matching of an even number of members, and its cost."""
    if not ids:
        return [], 0
    import networkx as nx  # imported when needed: a start of the bot does not pay for it

    pairs = [(a, b, costs.pair(a, b)) for a, b in itertools.combinations(ids, 2)]
    top = max(cost for _, _, cost in pairs) + 1
    graph = nx.Graph()
    graph.add_nodes_from(ids)
    graph.add_weighted_edges_from((a, b, top - cost) for a, b, cost in pairs)
    matched = nx.max_weight_matching(graph, maxcardinality=True)
    groups = [tuple(sorted(pair)) for pair in matched]
    return groups, sum(costs.pair(a, b) for a, b in groups)


def _exact(ids: list[int], costs: _Costs) -> list[Group]:
    if len(ids) % 2 == 0:
        return _matching(ids, costs)[0]
    if len(ids) <= TRIO_EXACT:
        best: tuple[int, list[Group]] | None = None
        for trio in itertools.combinations(ids, 3):
            rest = [m for m in ids if m not in trio]
            groups, cost = _matching(rest, costs)
            total = cost + costs.group(trio)
            if best is None or total < best[0]:
                best = (total, [*groups, trio])
        assert best is not None
        return best[1]
    # A larger odd pool: the member least often in a trio joins the pair that suits them best.
    extra = min(ids, key=lambda m: (costs.by_id[m].trios, _jitter(costs.seed, m, m)))
    groups, _ = _matching([m for m in ids if m != extra], costs)
    groups = _add_extra(groups, extra, costs)
    _improve(groups, costs, random.Random(costs.seed), tries=len(groups))
    return groups


def _add_extra(groups: list[Group], extra: int, costs: _Costs) -> list[Group]:
    best = min(
        range(len(groups)),
        key=lambda i: costs.group((*groups[i], extra)) - costs.group(groups[i]),
    )
    groups[best] = (*groups[best], extra)
    return groups


# --- large pools -------------------------------------------------------------------------------


def _greedy(ids: list[int], costs: _Costs, rng: random.Random) -> list[Group]:
    order = ids[:]
    rng.shuffle(order)
    extra: int | None = None
    if len(order) % 2:
        extra = min(order, key=lambda m: costs.by_id[m].trios)
        order.remove(extra)
    groups: list[Group] = []
    while order:
        a = order.pop()
        best_index = len(order) - 1
        best_cost = costs.pair(a, order[best_index])
        for index in range(len(order) - 2, max(-1, len(order) - 1 - WINDOW), -1):
            if best_cost < JITTER:
                break  # no repeat, no territory or category in common: as good as it gets
            cost = costs.pair(a, order[index])
            if cost < best_cost:
                best_index, best_cost = index, cost
        b = order[best_index]
        order[best_index] = order[-1]
        order.pop()
        groups.append((a, b))
    if extra is not None:
        _add_extra(groups, extra, costs)
    _improve(groups, costs, rng, tries=MIX_TRIES)
    return groups


def _improve(groups: list[Group], costs: _Costs, rng: random.Random, *, tries: int) -> None:
    """Swap members between groups while it lowers the cost (in place).

    A group with a repeat is tried against every other group; a group that does not mix
    (territory or category in common) against ``tries`` others drawn at random.
    """
    count = len(groups)
    if count < 2:
        return
    for _ in range(3):  # passes
        changed = False
        for i in range(count):
            current = costs.group(groups[i])
            if current < JITTER:
                continue
            if current >= REPEAT:
                others = list(range(count))
                rng.shuffle(others)
            else:
                others = [rng.randrange(count) for _ in range(tries)]
            for j in others:
                if j == i:
                    continue
                if _try_swap(groups, i, j, costs):
                    changed = True
                    if costs.group(groups[i]) < JITTER:
                        break
        if not changed:
            return


def _try_swap(groups: list[Group], i: int, j: int, costs: _Costs) -> bool:
    first, second = groups[i], groups[j]
    before = costs.group(first) + costs.group(second)
    best: tuple[int, Group, Group] | None = None
    for u, v in itertools.product(range(len(first)), range(len(second))):
        a = (*first[:u], second[v], *first[u + 1 :])
        b = (*second[:v], first[u], *second[v + 1 :])
        after = costs.group(a) + costs.group(b)
        if after < before and (best is None or after < best[0]):
            best = (after, a, b)
    if best is None:
        return False
    groups[i], groups[j] = best[1], best[2]
    return True


def grouping_cost(
    groups: Iterable[Group], pool: Sequence[Candidate], history: History, seed: int
) -> int:
    """The total cost of ``groups`` (what :func:`group_members` lowers), for tests and benchmarks."""
    costs = _Costs(pool, history, seed)
    return sum(costs.group(g) for g in groups)


def repeats(groups: Iterable[Group], history: History) -> int:
    """How many pairs of ``groups`` already met."""
    return sum(
        1
        for group in groups
        for a, b in itertools.combinations(group, 2)
        if history.get(frozenset((a, b)), 0)
    )


def add_to_history(history: dict[frozenset[int], int], groups: Iterable[Group]) -> None:
    """Count the pairs of ``groups`` as met (in place)."""
    for group in groups:
        for a, b in itertools.combinations(group, 2):
            key = frozenset((a, b))
            history[key] = history.get(key, 0) + 1
