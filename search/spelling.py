"""Typo tolerance without pg_trgm: a symmetric-delete (SymSpell) index over the vocabulary.

Every term of ``SearchTerm`` is stored with the strings made by deleting one letter of it, and, for
terms of ``MIN_LENGTH_FOR_TWO_EDITS`` letters or more, two (``SearchTermDeletion``). Two words are
within edit distance k when some deletions of at most k letters of each meet, so a misspelt word
needs only its own deletions (a few dozen strings) and one indexed ``IN`` lookup; the candidates are
then checked with the real distance (optimal string alignment: a swap of neighbours counts one).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from itertools import combinations

from django.db import connection

from search.models import SearchTerm, SearchTermDeletion

MIN_TERM_LENGTH = 3  # shorter words ("tv", "xl") are corrected into noise more often than not
MAX_TERM_LENGTH = 30  # longer "words" are part numbers and URLs: never misspelt the same way twice
MIN_LENGTH_FOR_TWO_EDITS = 5  # two edits of a four-letter word reach too many other words


def max_edits(word: str) -> int:
    return 2 if len(word) >= MIN_LENGTH_FOR_TWO_EDITS else 1


def deletions(word: str, *, edits: int) -> set[str]:
    """Every string made by deleting 1..edits letters of ``word`` (never the empty string)."""
    found: set[str] = set()
    for count in range(1, edits + 1):
        for positions in combinations(range(len(word)), count):
            candidate = "".join(ch for i, ch in enumerate(word) if i not in positions)
            if candidate:
                found.add(candidate)
    return found


def distance(a: str, b: str) -> int:
    """Optimal string alignment distance: insertions, deletions, substitutions, adjacent swaps."""
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        current = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                current[j] = min(current[j], previous2[j - 2] + 1)
        previous2, previous = previous, current
    return previous[len(b)]


def is_indexable(word: str) -> bool:
    return MIN_TERM_LENGTH <= len(word) <= MAX_TERM_LENGTH and word.isalpha()


@dataclass(frozen=True)
class Correction:
    word: str
    term: str
    distance: int
    frequency: int


def known_words(words: Iterable[str]) -> set[str]:
    return set(SearchTerm.objects.filter(term__in=set(words)).values_list("term", flat=True))


def is_known_prefix(word: str) -> bool:
    """Some term starts with ``word`` (what the last, still-being-typed word of a query may be)."""
    return SearchTerm.objects.filter(term__startswith=word).exists()


def correct(word: str) -> Correction | None:
    """The likeliest vocabulary term for a word that is not in it: the smallest edit distance, then
    the most frequent. None when nothing is close enough. Two indexed queries."""
    if not is_indexable(word):
        return None
    edits = max_edits(word)
    own = deletions(word, edits=edits)
    # Candidates: terms that are one of the word's deletions (the word has extra letters), terms one
    # of whose deletions is the word (letters missing) or meets one of its deletions (letters changed).
    by_term = dict(SearchTerm.objects.filter(term__in=own).values_list("term", "frequency"))
    by_term.update(
        SearchTermDeletion.objects.filter(deletion__in=own | {word}).values_list("term__term", "term__frequency")
    )
    best: Correction | None = None
    for term, frequency in by_term.items():
        if term == word:
            continue
        found = distance(word, term)
        if found > edits:
            continue
        candidate = Correction(word, term, found, frequency)
        if best is None or (found, -frequency, term) < (best.distance, -best.frequency, best.term):
            best = candidate
    return best


# Deletions are generated in SQL for the vocabulary rebuild: one statement instead of shipping
# millions of rows from Python. ``{where}`` narrows the terms (all of them, or the newly added ones).
_DELETIONS_SQL = """
INSERT INTO search_searchtermdeletion (deletion, term_id)
SELECT DISTINCT deletion, id FROM (
    SELECT t.id, left(t.term, i - 1) || substr(t.term, i + 1) AS deletion
    FROM search_searchterm t, generate_series(1, length(t.term)) AS i
    WHERE {where}
    UNION ALL
    SELECT t.id, left(t.term, i - 1) || substr(t.term, i + 1, j - i - 1) || substr(t.term, j + 1)
    FROM search_searchterm t, generate_series(1, length(t.term)) AS i, generate_series(i + 1, length(t.term)) AS j
    WHERE length(t.term) >= %(two_edits)s AND {where}
) AS generated
WHERE deletion <> ''
ON CONFLICT DO NOTHING
"""

# The vocabulary is the lexemes of the documents (ts_stat): exactly the words a query can match.
_VOCABULARY_SQL = """
INSERT INTO search_searchterm (term, frequency)
SELECT word, ndoc FROM ts_stat('SELECT document FROM search_searchdocument')
WHERE length(word) BETWEEN %(min)s AND %(max)s AND word ~ '^[[:alpha:]]+$'
"""


def vocabulary_rebuild() -> int:
    """Replace the vocabulary and its deletion index with the words of the current documents.
    Returns the number of terms."""
    with connection.cursor() as cursor:
        # DELETE, not TRUNCATE: searches keep reading the old vocabulary (MVCC) until this commits,
        # where TRUNCATE's exclusive lock would hold every search for the length of the rebuild.
        cursor.execute("DELETE FROM search_searchtermdeletion")
        cursor.execute("DELETE FROM search_searchterm")
        cursor.execute(_VOCABULARY_SQL, {"min": MIN_TERM_LENGTH, "max": MAX_TERM_LENGTH})
        count = cursor.rowcount
        cursor.execute(_DELETIONS_SQL.format(where="TRUE"), {"two_edits": MIN_LENGTH_FOR_TWO_EDITS})
    return count


def vocabulary_add(words: Iterable[str]) -> None:
    """Add the words that are new to the vocabulary (with their deletions). Frequencies of known
    words are not maintained per document change; the full rebuild recounts them."""
    new = {word for word in words if is_indexable(word)}
    if not new:
        return
    new -= known_words(new)
    if not new:
        return
    created = SearchTerm.objects.bulk_create(
        [SearchTerm(term=word, frequency=1) for word in sorted(new)], ignore_conflicts=True
    )
    del created  # ids are not returned with ignore_conflicts; the SQL below selects by term
    with connection.cursor() as cursor:
        cursor.execute(
            _DELETIONS_SQL.format(where="t.term = ANY(%(terms)s)"),
            {"two_edits": MIN_LENGTH_FOR_TWO_EDITS, "terms": sorted(new)},
        )
