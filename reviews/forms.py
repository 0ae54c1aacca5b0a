"""The review pages' forms: they parse input; the rules are the services' (reviews.services)."""

from __future__ import annotations

from django import forms

from reviews.models import BODY_MAX_LENGTH, REPORT_REASON_MAX_LENGTH, TITLE_MAX_LENGTH

RATING_CHOICES = [(stars, f"{stars} star{'s' if stars > 1 else ''}") for stars in (5, 4, 3, 2, 1)]


class ReviewForm(forms.Form):
    rating = forms.TypedChoiceField(choices=RATING_CHOICES, coerce=int, widget=forms.RadioSelect, label="Your rating")
    title = forms.CharField(max_length=TITLE_MAX_LENGTH, required=False, label="Headline")
    body = forms.CharField(
        max_length=BODY_MAX_LENGTH,
        required=False,
        label="Your review",
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text="What did you like or dislike? How did you use it? Links are not allowed.",
    )
    # A FileField: reviews.photos checks the bytes with only the four image decoders enabled.
    photo = forms.FileField(
        required=False, label="Add a photo", help_text="A JPEG, PNG, WebP or GIF of the product, up to 10 MB."
    )


class ReportForm(forms.Form):
    reason = forms.CharField(
        max_length=REPORT_REASON_MAX_LENGTH,
        label="What is wrong with this review?",
        widget=forms.Textarea(attrs={"rows": 4}),
    )
