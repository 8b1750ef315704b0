"""Entra-style banned-password scoring: fold, find banned terms allowing one edit, count points.

The algorithm follows Microsoft Entra Password Protection ("Eliminate bad passwords"):

1. Fold: NFKC (done by the caller), lowercase, then substitute 0→o 1→l $→s @→a.
2. Find every banned term in the folded password:
   - common passwords (zxcvbn's list, terms of 4+ characters) and the organisation's custom terms
     match at edit distance 1: with "abcdef" banned, "abcdeg" (substitution), "abcdefg"
     (insertion) and "abcde" (deletion) all match;
   - the user's names and the organisation's name match as exact substrings of 4+ characters
     (Entra's "substring matching on specific terms"; fuzzy-matching short names such as "mark"
     would also hit "park", "dark", "mars"). Put the organisation's name in the custom terms to
     get the fuzzy match as well, as Microsoft's example does.
3. Score: each distinct banned term found is 1 point, each distinct character left over is 1
   point; the password needs at least `fuzzy_min_points` (5) points.

Microsoft's worked examples, with "contoso" a custom term and "blank" on the global list:
"C0ntos0Blank12" folds to "contosoblank12": [contoso] + [blank] + [l] + [2] = 4 points, rejected;
"ContoS0Bl@nkf9!" folds to "contosoblankf9!": [contoso] + [blank] + [f] + [9] + [!] = 5, accepted.

Matching is a symmetric-deletion search (as in SymSpell). The index maps every term, and every
term with one character deleted, to a bit mask (bit 0: a term; bit i+1: a term with character i
deleted), and also holds every prefix of those keys (mask 0), so a walk along the password stops
as soon as no key starts that way. For a window w of the password:
- w is a key with bit 0: an exact match;
- w is a key with bit i+1: w is a term with one character deleted;
- w with character i deleted is a key with bit 0: w is a term with one character inserted;
- w with character i deleted is a key with bit i+1: w is a term with character i substituted.
Only windows of 4+ characters count, and an insertion at the very start or end of a window is
not a new match (the exact term next to it is found anyway). The points come from a minimum
cover of the password by the matches found (a small dynamic programme), i.e. the strictest
reading. Each start position costs a handful of dict lookups: about a millisecond for a
256-character password, against tens for zxcvbn on its first 100.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Literal

from zxcvbn.frequency_lists import FREQUENCY_LISTS

# zxcvbn ships its list ordered by frequency; the top 10,000 is the bundled banned list. The tail
# of the 30,000 adds mostly keyboard noise and would triple memory (~40 MB) for little gain.
COMMON_PASSWORD_COUNT = 10_000
MIN_TERM_LENGTH = 4  # shorter terms are not matched inside a password (Entra does the same)

_SUBSTITUTIONS = str.maketrans({"0": "o", "1": "l", "$": "s", "@": "a"})
_SEPARATORS = re.compile(r"[\W_]+")
_APOSTROPHES = re.compile("['’]")  # O'Neil is one name, "oneil"

Source = Literal["common", "custom", "personal"]


def fold(text: str) -> str:
    """Lowercase and undo the usual substitutions (the caller has NFKC-normalised already)."""
    return text.lower().translate(_SUBSTITUTIONS)


def personal_terms(texts: Iterable[str]) -> frozenset[str]:
    """Folded terms of 4+ characters from names: each word, and the whole without separators.

    "Mary-Ann O'Neil" gives "mary", "oneil" and "maryannoneil"; "j.doe" gives "jdoe".
    """
    out: set[str] = set()
    for text in texts:
        words = [w for w in _SEPARATORS.split(_APOSTROPHES.sub("", text)) if w]
        for candidate in [*words, "".join(words)]:
            folded = fold(candidate)
            if len(folded) >= MIN_TERM_LENGTH:
                out.add(folded)
    return frozenset(out)


@dataclass(frozen=True, slots=True)
class TermMatch:
    start: int  # span in the folded password
    end: int
    term: str  # the banned term (folded), not the password's text
    source: Source
    distance: int  # 0 exact, 1 one edit away


class TermIndex:
    """Banned terms with their one-deletion neighbourhood, built once and then read only."""

    def __init__(self, terms: Iterable[str], source: Source) -> None:
        self.source: Source = source
        self.terms: frozenset[str] = frozenset(
            f for f in (fold(t) for t in terms) if len(f) >= MIN_TERM_LENGTH
        )
        nodes: dict[str, int] = {}
        for term in self.terms:
            nodes[term] = nodes.get(term, 0) | 1
            for i in range(len(term)):
                key = term[:i] + term[i + 1 :]
                nodes[key] = nodes.get(key, 0) | (2 << i)
        # every proper prefix of a key, so a walk can stop at the first dead end
        for key in list(nodes):
            for j in range(1, len(key)):
                nodes.setdefault(key[:j], 0)
        self._nodes = nodes
        self._alphabet = "".join(sorted({c for t in self.terms for c in t}))
        # what a start position can reach: a key, plus one inserted character, plus one more so
        # that a walk stopping at the end of the text is told apart from one that ran on
        self._reach = max((len(t) for t in self.terms), default=0) + 2

    def __len__(self) -> int:
        return len(self.terms)

    def _restore(self, key: str, i: int, avoid: str = "") -> str | None:
        """The term that `key` is with character i deleted (not `avoid`), if any."""
        head, tail = key[:i], key[i:]
        for c in self._alphabet:
            term = head + c + tail
            if term in self.terms and term != avoid:
                return term
        return None

    def find(self, text: str) -> list[TermMatch]:
        """Every window of `text` (folded) within edit distance 1 of a term; may overlap.

        What a start position finds depends only on the next `_reach` characters, so a
        repeated stretch ("aaaa…", "P@$$w0rd!1P@$$w0rd!1…", a favourite paste against this
        scan) is walked once and its matches shifted: such a paste costs a few dict lookups a
        character instead of a full walk.
        """
        found: dict[tuple[int, int], TermMatch] = {}
        walked: dict[str, list[tuple[int, int, str, int]]] = {}
        reach, source = self._reach, self.source
        for s in range(len(text) - MIN_TERM_LENGTH + 1):
            window = text[s : s + reach]
            hits = walked.get(window)
            if hits is None:
                hits = walked[window] = self._walk(window)
            for start, end, term, distance in hits:
                old = found.get((s + start, s + end))
                if old is None or distance < old.distance:
                    found[(s + start, s + end)] = TermMatch(s + start, s + end, term, source,
                                                            distance)
        return list(found.values())

    def _walk(self, text: str) -> list[tuple[int, int, str, int]]:
        """The matches that start at text[0], as (start, end, term, distance), best first."""
        nodes, n = self._nodes, len(text)
        found: dict[tuple[int, int], tuple[str, int]] = {}

        def add(end: int, term: str | None, distance: int) -> None:
            if term is None:
                return
            old = found.get((0, end))
            if old is None or distance < old[1]:
                found[(0, end)] = (term, distance)

        s = 0
        # windows with no character dropped: exact terms, or terms missing one character
        depth = 0  # longest k with text[s:s+k] a node
        for k in range(1, n - s + 1):
            key = text[s : s + k]
            mask = nodes.get(key)
            if mask is None:
                break
            depth = k
            if mask and k >= MIN_TERM_LENGTH:
                if mask & 1:
                    add(s + k, key, 0)
                rest = mask >> 1
                i = 0
                while rest:  # key is a term with character i deleted
                    if rest & 1:
                        add(s + k, self._restore(key, i), 1)
                    rest >>= 1
                    i += 1
        # windows with character i dropped: text[s:s+i] must itself be a node (or empty)
        for i in range(min(depth, n - s - 1) + 1):
            head = text[s : s + i]
            bit = 2 << i
            # k = length of the key, the window is k + 1; k == i drops the window's last
            for k in range(max(i, 1), n - s):
                key = head + text[s + i + 1 : s + k + 1]
                mask = nodes.get(key)
                if mask is None:
                    break
                if not mask or k + 1 < MIN_TERM_LENGTH:
                    continue
                if mask & 1 and 0 < i < k:  # one character inserted inside the term
                    add(s + k + 1, key, 1)
                if mask & bit:  # character i substituted
                    window = text[s : s + k + 1]
                    add(s + k + 1, self._restore(key, i, avoid=window), 1)
        return [(start, end, term, distance)
                for (start, end), (term, distance) in found.items()]


def find_substrings(text: str, terms: Iterable[str], source: Source) -> list[TermMatch]:
    """Exact occurrences of each (folded) term in `text`."""
    out: list[TermMatch] = []
    for term in terms:
        at = text.find(term)
        while at >= 0:
            out.append(TermMatch(at, at + len(term), term, source, 0))
            at = text.find(term, at + 1)
    return out


@dataclass(frozen=True, slots=True)
class FuzzyScore:
    points: int
    matches: tuple[TermMatch, ...]  # the chosen, non-overlapping matches, left to right
    leftover: int  # distinct characters outside the matches

    def terms(self, *sources: Source) -> list[str]:
        """Distinct matched terms from the given sources, in order of appearance."""
        seen: dict[str, None] = {}
        for m in self.matches:
            if m.source in sources:
                seen.setdefault(m.term, None)
        return list(seen)


def score(folded: str, matches: Sequence[TermMatch]) -> FuzzyScore:
    """Points for `folded` given candidate matches: minimum cover, then Entra's count."""
    n = len(folded)
    by_start: list[list[TermMatch]] = [[] for _ in range(n)]
    for m in matches:
        by_start[m.start].append(m)
    # cost[i]: fewest (matches + uncovered characters) to cover folded[i:]
    cost = [0] * (n + 1)
    pick: list[TermMatch | None] = [None] * (n + 1)
    for i in range(n - 1, -1, -1):
        best: tuple[int, int, int, int] = (cost[i + 1] + 1, 1, 0, 0)
        choice: TermMatch | None = None
        for m in by_start[i]:
            # on equal cost prefer a match, then the longer one, then an exact one, then a name
            # over a listed term ("contains your name" is the more useful reason to show)
            key = (cost[m.end] + 1, 0, m.start - m.end, m.distance * 2 + (m.source != "personal"))
            if key < best:
                best, choice = key, m
        cost[i], pick[i] = best[0], choice
    chosen: list[TermMatch] = []
    leftover: set[str] = set()
    i = 0
    while i < n:
        picked = pick[i]
        if picked is None:
            leftover.add(folded[i])
            i += 1
        else:
            chosen.append(picked)
            i = picked.end
    distinct_terms = len({(m.source, m.term) for m in chosen})
    return FuzzyScore(distinct_terms + len(leftover), tuple(chosen), len(leftover))


@cache
def common_passwords() -> frozenset[str]:
    """The bundled banned list: zxcvbn's most frequent passwords, as shipped (lowercase)."""
    return frozenset(FREQUENCY_LISTS["passwords"][:COMMON_PASSWORD_COUNT])


@cache
def common_index() -> TermIndex:
    """The common-password index, built once per process (about half a second)."""
    return TermIndex(common_passwords(), "common")
