import pytest

from search import spelling
from search.models import SearchTerm


def test_deletions_of_a_word_at_one_and_two_edits():
    assert spelling.deletions("abc", edits=1) == {"ab", "ac", "bc"}
    assert spelling.deletions("abc", edits=2) == {"ab", "ac", "bc", "a", "b", "c"}


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        ("apple", "apple", 0),
        ("aple", "apple", 1),
        ("apple", "appel", 1),
        ("juce", "juice", 1),
        ("kitten", "sitting", 3),
    ],
)
def test_distance_counts_a_swap_of_neighbours_as_one_edit(a, b, expected):
    assert spelling.distance(a, b) == expected


@pytest.mark.django_db
def test_correction_prefers_the_smaller_distance_then_the_more_frequent_term():
    SearchTerm.objects.bulk_create(
        [
            SearchTerm(term="shirt", frequency=5),
            SearchTerm(term="short", frequency=50),
            SearchTerm(term="shorts", frequency=500),
        ]
    )
    spelling.vocabulary_add([])  # nothing new
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(spelling._DELETIONS_SQL.format(where="TRUE"), {"two_edits": spelling.MIN_LENGTH_FOR_TWO_EDITS})
    assert spelling.correct("shirtt").term == "shirt"  # distance 1 beats the frequent distance-2 terms
    assert spelling.correct("shrt").term == "short"  # both at distance 1: the more frequent
    assert spelling.correct("xyzzy") is None
