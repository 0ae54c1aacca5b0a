"""The product page's review box: what the visitor can do about reviewing this product. It belongs
to one visitor, so it is a live part (storefront.live) in the cached page, next to the cached list of
reviews:

- a guest: a link to sign in and come back;
- the product's own seller: a note that sellers answer reviews in the Seller Centre;
- a buyer who reviewed it: their rating and links to edit or delete (and that it awaits a
  moderator, when held);
- a buyer who has not: the review form, with the visitor's CSRF token.

``prepare`` builds the escaped HTML that does not depend on the visitor once, with the page; ``render``
runs per request: no query for a guest, one (the visitor's own review) for a signed-in buyer.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from django.urls import reverse
from django.utils.html import escape

from reviews import selectors as reviews_selectors
from reviews.models import BODY_MAX_LENGTH, TITLE_MAX_LENGTH
from storefront import live

_STARS = (5, 4, 3, 2, 1)


def prepare(product: Mapping[str, Any]) -> dict[str, Any]:
    """The visitor-independent parts, escaped: plain strings cached with the page."""
    slug = product["slug"]
    radios = "".join(
        f'<label class="option"><input type="radio" name="rating" value="{stars}" required>'
        f"<span>{stars} star{'s' if stars > 1 else ''}</span></label>"
        for stars in _STARS
    )
    form_head = f'<form class="form review-form" method="post" enctype="multipart/form-data" action="{escape(reverse("reviews:new", args=[slug]))}">'  # noqa: E501
    form_tail = (
        '<fieldset class="option-group"><legend class="option-legend">Your rating</legend>'
        f'<div class="option-values">{radios}</div></fieldset>'
        '<div class="field"><label for="review-title">Headline <span class="optional">(optional)</span></label>'
        f'<input id="review-title" type="text" name="title" maxlength="{TITLE_MAX_LENGTH}"></div>'
        '<div class="field"><label for="review-body">Your review <span class="optional">(optional)</span></label>'
        f'<textarea id="review-body" name="body" rows="5" maxlength="{BODY_MAX_LENGTH}"></textarea>'
        '<div class="help">What did you like or dislike? Links are not allowed. Reviews from buyers who '
        "received the product are marked <strong>Verified purchase</strong>.</div></div>"
        '<div class="field"><label for="review-photo">Add a photo <span class="optional">(optional)</span></label>'
        '<input id="review-photo" type="file" name="photo" accept="image/jpeg,image/png,image/webp,image/gif"></div>'
        '<button class="button primary" type="submit">Publish review</button></form>'
    )
    return {
        "product_id": product["id"],
        "seller_user_id": product["seller"].get("user_id"),
        "next": quote(product["url"] + "#reviews", safe="/"),
        "form_head": form_head,
        "form_tail": form_tail,
    }


def render(prepared: Mapping[str, Any], visitor: live.Visitor) -> str:
    """The box for this visitor."""
    user = visitor.user
    if user is None:
        login = live.account_urls()["login"]
        if not login:
            return ""
        return (
            f'<p class="review-cta">Bought this product? <a class="button" href="{login}?next={prepared["next"]}">'
            "Sign in to write a review</a></p>"
        )
    if user.pk == prepared["seller_user_id"]:
        return '<p class="muted">You sell this product. Reply to its reviews in the Seller Centre.</p>'
    own = reviews_selectors.review_of_user(user_id=user.pk, product_id=prepared["product_id"])
    if own is None:
        return (
            '<h3 class="review-form-title">Write a review</h3>'
            + prepared["form_head"]
            + visitor.csrf_input
            + prepared["form_tail"]
        )
    edit, delete = reverse("reviews:edit", args=[own["id"]]), reverse("reviews:delete", args=[own["id"]])
    held = "" if own["status"] == "published" else f' <span class="badge warning">{escape(own["status_label"])}</span>'
    return (
        f'<p class="review-own">You reviewed this product: {own["rating"]} of 5 stars.{held} '
        f'<a href="{edit}">Edit your review</a> · <a href="{delete}">Delete it</a></p>'
    )
