"""``manage.py search_relevance``: nDCG@10 and zero-result rate of the configured search backend
over the judged queries of ``search/relevance/judged.json``."""

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand

from search.relevance import evaluation


class Command(BaseCommand):
    help = "Score the configured search backend on the judged query set (nDCG@10, zero-result rate)."

    def add_arguments(self, parser):
        parser.add_argument("--judged", type=Path, default=evaluation.JUDGED_PATH, help="The judged query set.")

    def handle(self, *args, judged: Path, **options) -> None:
        backend = getattr(settings, "SEARCH_BACKEND", "postgres")
        self.stdout.write(f"backend: {backend}, judged queries: {judged}")
        self.stdout.write(f"{'query':<26} {'kind':<12} {'hits':>7} {'top-10 grades':<21} {'nDCG@10':>7}  suggestion")

        def row(score: evaluation.QueryScore) -> None:
            hits = f"{score.count:,}"
            grades = "".join(str(g) for g in score.grades) or "-"
            self.stdout.write(
                f"{score.judgement.q:<26} {score.judgement.kind:<12} {hits:>7} {grades:<21} {score.ndcg:>7.3f}"
                f"  {score.suggestion or ''}"
            )

        report = evaluation.relevance_evaluate(evaluation.judgements_load(judged), progress=row)
        self.stdout.write("")
        for kind, ndcg in sorted(report.by_kind().items()):
            self.stdout.write(f"  nDCG@10 {kind:<12} {ndcg:.3f}")
        summary = f"nDCG@10 {report.ndcg:.3f}  zero-result rate {report.zero_result_rate:.1%}"
        self.stdout.write(self.style.SUCCESS(f"{len(report.scores)} queries  {summary}"))
