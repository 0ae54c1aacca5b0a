"""The review pages: writing, editing and deleting one's review, voting a review helpful and
reporting one. The product page shows the reviews (storefront); these pages take the forms it links
to and send the buyer back to it."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache

from catalog import selectors as catalog_selectors
from catalog.models import Product
from reviews import selectors, services
from reviews.forms import ReportForm, ReviewForm
from reviews.models import Review
from shop.core import ratelimit

TOO_MANY_REVIEWS = "You are writing reviews too fast. Wait a while and try again."
HELD = "Thanks! Your review is waiting for a moderator before it is published."
PUBLISHED = "Thanks! Your review is published."


def _product_url(product: Product) -> str:
    return reverse("storefront:product", args=[product.slug]) + "#reviews"


def _listed_product(slug: str) -> Product:
    product = catalog_selectors.listed_products().select_related("seller").filter(slug=slug).first()
    if product is None:
        raise Http404("No listed product has this address.")
    return product


def _add_errors(form, exc: ValidationError) -> None:
    for field, errors in exc.message_dict.items():
        for error in errors:
            form.add_error(field if field in form.fields else None, error)


def _photo(request: HttpRequest, form: ReviewForm, review: Review) -> bool:
    """Store the form's photo with the review; False (and the error on the form) when refused."""
    upload = form.cleaned_data.get("photo")
    if not upload:
        return True
    try:
        services.review_photo_add(review_id=review.pk, author=request.user, upload=upload)
    except ValidationError as exc:
        form.add_error("photo", exc.message_dict.get("image", exc.messages))
        return False
    return True


@never_cache
@login_required
def review_new(request: HttpRequest, slug: str) -> HttpResponse:
    """The review form (also posted from the product page); errors are shown next to the fields."""
    product = _listed_product(slug)
    own = selectors.review_of_user(user_id=request.user.pk, product_id=product.pk)
    if own is not None:
        messages.info(request, "You have reviewed this product already; you can change your review here.")
        return redirect("reviews:edit", own["id"])
    form = ReviewForm(request.POST or None, request.FILES or None)
    status = 200
    if request.method == "POST":
        if ratelimit.hit(request, "review_create", key="user"):
            form.is_valid()
            form.add_error(None, TOO_MANY_REVIEWS)
            status = 429
        elif form.is_valid():
            try:
                fields = {name: form.cleaned_data[name] for name in ("rating", "title", "body")}
                review = services.review_create(user=request.user, product=product, **fields)
            except ValidationError as exc:
                _add_errors(form, exc)
            except (services.ReviewNotAllowed, services.ReviewConflict) as exc:
                form.add_error(None, str(exc))
            else:
                photo_stored = _photo(request, form, review)
                messages.success(request, HELD if review.status == Review.Status.PENDING else PUBLISHED)
                if photo_stored:
                    return redirect(_product_url(product))
                return redirect("reviews:edit", review.pk)
        if status == 200:
            status = 400
    context = {"form": form, "product": product, "product_url": _product_url(product)}
    return render(request, "reviews/review_form.html", context, status=status)


def _own_review(request: HttpRequest, review_id: int) -> Review:
    review = selectors.review_for_author(review_id=review_id, user_id=request.user.pk)
    if review is None:
        raise Http404("No review of yours has this address.")
    return review


@never_cache
@login_required
def review_edit(request: HttpRequest, review_id: int) -> HttpResponse:
    review = _own_review(request, review_id)
    initial = {"rating": review.rating, "title": review.title, "body": review.body}
    form = ReviewForm(request.POST or None, request.FILES or None, initial=initial)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            fields = {name: form.cleaned_data[name] for name in ("rating", "title", "body")}
            try:
                review = services.review_update(review_id=review.pk, author=request.user, **fields)
            except ValidationError as exc:
                _add_errors(form, exc)
            else:
                if _photo(request, form, review):
                    messages.success(
                        request, HELD if review.status == Review.Status.PENDING else "Your review is updated."
                    )
                    return redirect(_product_url(review.product))
    context = {"form": form, "product": review.product, "review": review, "product_url": _product_url(review.product)}
    return render(request, "reviews/review_form.html", context, status=status)


@never_cache
@login_required
def review_delete(request: HttpRequest, review_id: int) -> HttpResponse:
    review = _own_review(request, review_id)
    if request.method == "POST":
        try:
            services.review_delete(review_id=review.pk, author=request.user)
        except Review.DoesNotExist:  # deleted meanwhile (another tab)
            raise Http404("No review of yours has this address.") from None
        messages.success(request, "Your review is deleted.")
        return redirect(_product_url(review.product))
    return render(
        request, "reviews/review_confirm_delete.html", {"review": review, "product_url": _product_url(review.product)}
    )


def _published(review_id: int) -> Review:
    review = selectors.published_review(review_id=review_id)
    if review is None:
        raise Http404("No published review has this address.")
    return review


@never_cache
@login_required
def review_helpful(request: HttpRequest, review_id: int) -> HttpResponse:
    """GET asks "was this review helpful?" with a button (the cached product page holds no form)."""
    review = _published(review_id)
    if request.method == "POST":
        try:
            services.review_vote_helpful(review_id=review.pk, user=request.user)
            messages.success(request, "Thanks for your vote.")
        except (services.ReviewConflict, services.ReviewNotAllowed) as exc:
            messages.info(request, str(exc))
        except Review.DoesNotExist:
            raise Http404("No published review has this address.") from None
        return redirect(_product_url(review.product))
    context = {
        "review": selectors.review_data(review),
        "product": review.product,
        "product_url": _product_url(review.product),
    }
    return render(request, "reviews/review_helpful.html", context)


@never_cache
@login_required
def review_report(request: HttpRequest, review_id: int) -> HttpResponse:
    review = _published(review_id)
    form = ReportForm(request.POST or None)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                services.review_report(review_id=review.pk, user=request.user, reason=form.cleaned_data["reason"])
            except ValidationError as exc:
                _add_errors(form, exc)
            except (services.ReviewConflict, services.ReviewNotAllowed) as exc:
                form.add_error(None, str(exc))
            except Review.DoesNotExist:
                raise Http404("No published review has this address.") from None
            else:
                messages.success(request, "Thanks. Our team will look at this review.")
                return redirect(_product_url(review.product))
    context = {"form": form, "review": selectors.review_data(review), "product": review.product,
               "product_url": _product_url(review.product)}  # fmt: skip
    return render(request, "reviews/review_report.html", context, status=status)
