"""The judged relevance set and ``manage.py search_relevance`` on a small seeded demo catalogue."""

from io import StringIO

import pytest
from django.core.management import call_command

from catalog.models import Category
from search import services
from search.models import SearchDocument
from search.relevance import evaluation

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo_catalogue(db):
    # through the command, not backoffice.seeding: search sits below backoffice (import-linter layers)
    call_command("seed_demo", products=300, stdout=StringIO())
    services.documents_rebuild_all()  # seed_demo rebuilds too; said again, the tests rely on it


def test_judged_set_has_30_queries_of_every_kind_over_real_categories(demo_catalogue):
    judgements = evaluation.judgements_load()
    assert len(judgements) >= 30
    assert {j.kind for j in judgements} >= {"category", "brand", "multi-word", "misspelling", "prefix"}
    paths = set(Category.objects.values_list("path", flat=True))
    assert {rule["category"] for j in judgements for rule in j.rules if "category" in rule} <= paths


def test_rules_grade_the_same_in_python_and_in_the_database(demo_catalogue):
    documents = list(SearchDocument.objects.values("product_id", "title", "brand", "category_path"))
    for judgement in evaluation.judgements_load():
        for rule in judgement.rules:
            in_python = {
                d["product_id"]
                for d in documents
                if evaluation.rule_matches(rule, title=d["title"], brand=d["brand"], category_path=d["category_path"])
            }
            in_database = set(
                SearchDocument.objects.filter(evaluation.rule_q(rule)).values_list("product_id", flat=True)
            )
            assert in_python == in_database, (judgement.q, rule)


def test_ndcg_of_a_perfect_and_of_a_reversed_page():
    assert evaluation.dcg([2, 1, 0]) / evaluation.dcg([2, 1, 0]) == 1
    assert 0 < evaluation.dcg([0, 1, 2]) / evaluation.dcg([2, 1, 0]) < 1


def test_search_relevance_command_reports_ndcg_and_zero_result_rate(demo_catalogue):
    out = StringIO()
    call_command("search_relevance", stdout=out)
    report = evaluation.relevance_evaluate()
    assert 0 < report.ndcg <= 1
    assert 0 <= report.zero_result_rate < 1
    assert all(0 <= score.ndcg <= 1 for score in report.scores)
    text = out.getvalue()
    assert f"{len(report.scores)} queries" in text
    assert "nDCG@10" in text
    assert "zero-result rate" in text
    assert "headphnoes" in text
