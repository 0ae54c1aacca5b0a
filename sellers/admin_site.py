"""The seller admin site ("Seller Centre", at /seller/) and the mixins that scope an app's admin to
the signed-in seller. A public module (DESIGN.md): each app registers its own seller-scoped admin
classes on ``seller_admin_site`` in its ``admin.py``::

    @admin.register(Stock, site=seller_admin_site)
    class SellerStockAdmin(SellerScopedAdminMixin, admin.ModelAdmin):
        seller_field = "variant__product__seller"

Who gets in: an active user whose seller is approved. Seller users are not staff and hold no Django
model permissions; the site grants them, on their own objects only. A signed-in user who is not (or
no longer) an approved seller gets a page that says why (application pending, store suspended, ...)
instead of the admin. Staff keep using the normal /admin/, which sees everything.

What is scoped, for every admin class with the mixin: the changelist and its search, change,
delete and history views reached by URL (another seller's object is a 404, as in the API),
saves (the seller is set on create and is not a form field), bulk actions (they get the scoped
queryset), autocomplete results (the target admin's scoped queryset) and the choices of foreign
keys and many-to-many fields that point at seller-owned models. Shared models (categories,
brands) keep all their choices.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import update_wrapper
from typing import Any

from django.conf import settings
from django.contrib import admin
from django.contrib.admin.exceptions import NotRegistered
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import FieldDoesNotExist, ImproperlyConfigured, ValidationError
from django.db import models
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.decorators import method_decorator
from django.views.decorators.cache import never_cache

from .models import Seller
from .selectors import seller_for_user
from .views import support_email

# Context for the dashboard: provider(request, seller) -> dict, merged into the index page's context.
IndexContextProvider = Callable[[HttpRequest, Seller], dict[str, Any]]


@dataclass(frozen=True)
class ExtraView:
    route: str
    view: Callable[..., HttpResponse]
    name: str
    label: str | None  # shown in the site's navigation when set


class SellerAdminSite(admin.AdminSite):
    site_header = "Seller Centre"
    site_title = "Seller Centre"
    index_title = "Dashboard"
    # the page shown instead of the admin to a signed-in user who is not an approved seller
    not_approved_template = "sellers/admin/not_approved.html"

    def __init__(self, name: str = "seller_admin"):
        super().__init__(name)
        self._index_context_providers: list[IndexContextProvider] = []
        self._extra_views: list[ExtraView] = []

    # --- who gets in ------------------------------------------------------------------------------

    def seller(self, request: HttpRequest) -> Seller | None:
        return seller_for_user(user=request.user)

    def has_permission(self, request: HttpRequest) -> bool:
        user = request.user
        if not (user.is_authenticated and user.is_active):
            return False
        seller = self.seller(request)
        return seller is not None and seller.is_approved

    def admin_view(self, view, cacheable: bool = False):
        inner = super().admin_view(view, cacheable)

        def gate(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            if not request.user.is_authenticated:
                # the shop's own log-in page (rate limited), not a second one in the admin
                return redirect_to_login(request.get_full_path(), settings.LOGIN_URL)
            if not self.has_permission(request):
                return self.not_approved(request)
            return inner(request, *args, **kwargs)

        return update_wrapper(gate, view)

    @method_decorator(never_cache)
    def login(self, request: HttpRequest, extra_context=None) -> HttpResponse:
        if not request.user.is_authenticated:
            index = reverse("admin:index", current_app=self.name)
            return redirect_to_login(request.GET.get("next") or index, settings.LOGIN_URL)
        if not self.has_permission(request):
            return self.not_approved(request)
        return redirect(reverse("admin:index", current_app=self.name))

    def not_approved(self, request: HttpRequest) -> HttpResponse:
        """403 with the reason: no application yet, pending, rejected, suspended, or an inactive user."""
        seller = self.seller(request)
        response = render(
            request,
            self.not_approved_template,
            {"seller": seller, "support_email": support_email()},
            status=403,
        )
        response["Cache-Control"] = "no-store"
        return response

    # --- what apps add: pages and the dashboard ---------------------------------------------------

    def register_view(
        self, route: str, view: Callable[..., HttpResponse], *, name: str, label: str | None = None
    ) -> None:
        """Add a page to the site, at /seller/<route>, reversible as ``seller_admin:<name>``. Only
        approved sellers reach it; ``label`` puts a link to it in the site's navigation."""
        self._extra_views.append(ExtraView(route, view, name, label))

    def add_index_context(self, provider: IndexContextProvider) -> None:
        """Contribute to the dashboard (the site's index page), e.g. counts of the seller's objects."""
        self._index_context_providers.append(provider)

    def index(self, request: HttpRequest, extra_context=None) -> HttpResponse:
        context: dict[str, Any] = {}
        seller = self.seller(request)
        for provider in self._index_context_providers:
            context.update(provider(request, seller))
        context.update(extra_context or {})
        return super().index(request, context)

    def each_context(self, request: HttpRequest) -> dict[str, Any]:
        context = super().each_context(request)
        context["is_seller_site"] = True
        context["seller"] = self.seller(request) if self.has_permission(request) else None
        context["seller_nav"] = [
            {"label": extra.label, "url": reverse(f"admin:{extra.name}", current_app=self.name)}
            for extra in self._extra_views
            if extra.label
        ]
        return context

    def get_urls(self):
        urls = []
        for pattern in super().get_urls():
            if getattr(pattern, "name", None) == "view_on_site":
                # Django's shortcut redirects to any object of any model by content type and id,
                # which would reveal which ids exist; this one answers only for the seller's own.
                pattern = path(
                    "r/<int:content_type_id>/<str:object_id>/",
                    self.admin_view(self.view_on_site),
                    name="view_on_site",
                )
            urls.append(pattern)
        extra = [
            path(view.route, self.admin_view(self._with_current_app(view.view)), name=view.name)
            for view in self._extra_views
        ]
        return extra + urls  # before the models' routes and the final catch-all

    def _with_current_app(self, view):
        def wrapped(request, *args, **kwargs):
            request.current_app = self.name  # so {% url 'admin:...' %} reverses to this site
            return view(request, *args, **kwargs)

        return update_wrapper(wrapped, view)

    def view_on_site(self, request: HttpRequest, content_type_id: int, object_id: str) -> HttpResponse:
        from django.contrib.contenttypes import views as contenttype_views
        from django.contrib.contenttypes.models import ContentType

        try:
            model = ContentType.objects.get_for_id(content_type_id).model_class()
        except ContentType.DoesNotExist:
            raise Http404("No such object.") from None
        try:
            model_admin = self.get_model_admin(model)
        except NotRegistered:
            raise Http404("No such object.") from None
        try:
            visible = model_admin.get_queryset(request).filter(pk=object_id).exists()
        except (ValueError, ValidationError):
            visible = False
        if not visible:
            raise Http404("No such object.")
        return contenttype_views.shortcut(request, content_type_id, object_id)


seller_admin_site = SellerAdminSite()


# --- scoping ------------------------------------------------------------------------------------


class _SellerScoping:
    """What the model admin and the inline mixins share: the seller, the scoped queryset and the
    scoped choices of relations."""

    #: The lookup path from the model to its seller: "seller", "product__seller",
    #: "variant__product__seller"; "pk" for the Seller model itself.
    seller_field: str = "seller"
    #: For relations whose target's seller path cannot be found on its own (target not registered
    #: on the seller site with this mixin, nor having a ``seller`` field): {field name: path}.
    related_seller_fields: dict[str, str] = {}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not isinstance(self.admin_site, SellerAdminSite):
            raise ImproperlyConfigured(
                f"{type(self).__name__} scopes to a seller: register it on sellers.admin_site.seller_admin_site."
            )

    def get_seller(self, request: HttpRequest) -> Seller:
        seller = seller_for_user(user=request.user)
        if seller is None:  # the site lets only approved sellers in; this is a bug, not a user error
            raise PermissionError("a seller-scoped admin reached without a seller")
        return seller

    @staticmethod
    def scope_filter(seller_field: str, seller: Seller) -> dict[str, Any]:
        return {"pk": seller.pk} if seller_field == "pk" else {seller_field: seller}

    def scope_queryset(self, request: HttpRequest, queryset: models.QuerySet, seller_field: str | None = None):
        return queryset.filter(**self.scope_filter(seller_field or self.seller_field, self.get_seller(request)))

    def get_queryset(self, request: HttpRequest):
        return self.scope_queryset(request, super().get_queryset(request))

    def owns(self, request: HttpRequest, obj: models.Model) -> bool:
        """Whether ``obj`` belongs to the request's seller, following ``seller_field``."""
        seller = self.get_seller(request)
        if self.seller_field == "pk":
            return obj.pk == seller.pk
        *hops, last = self.seller_field.split("__")
        target = obj
        for hop in hops:
            target = getattr(target, hop, None)
            if target is None:
                return False
        return getattr(target, f"{last}_id", None) == seller.pk

    # relations

    def _registered_admin(self, model) -> admin.ModelAdmin | None:
        try:
            return self.admin_site.get_model_admin(model)
        except NotRegistered:
            return None

    def related_seller_field(self, db_field) -> str | None:
        """The seller path of the model a relation points at, or None for a shared model."""
        if db_field.name in self.related_seller_fields:
            return self.related_seller_fields[db_field.name]
        model = db_field.remote_field.model
        if model is Seller:
            return "pk"
        related_admin = self._registered_admin(model)
        if isinstance(related_admin, _SellerScoping):
            return related_admin.seller_field
        try:
            field = model._meta.get_field("seller")
        except FieldDoesNotExist:  # a shared model such as Category
            return None
        return "seller" if getattr(field.remote_field, "model", None) is Seller else None

    def _scoped_choices(self, db_field, request: HttpRequest) -> models.QuerySet | None:
        seller_field = self.related_seller_field(db_field)
        if seller_field is None:
            return None
        model = db_field.remote_field.model
        queryset = model._default_manager.filter(**self.scope_filter(seller_field, self.get_seller(request)))
        related_admin = self._registered_admin(model)
        ordering = related_admin.get_ordering(request) if related_admin is not None else None
        return queryset.order_by(*ordering) if ordering else queryset

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if "queryset" not in kwargs:
            choices = self._scoped_choices(db_field, request)
            if choices is not None:
                kwargs["queryset"] = choices
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if "queryset" not in kwargs:
            choices = self._scoped_choices(db_field, request)
            if choices is not None:
                kwargs["queryset"] = choices
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    def get_exclude(self, request, obj=None):
        # a direct seller field is never a form field: save_model sets it from the request
        exclude = list(super().get_exclude(request, obj) or [])
        if "__" not in self.seller_field and self.seller_field != "pk" and self.seller_field not in exclude:
            exclude.append(self.seller_field)
        return exclude


class SellerScopedAdminMixin(_SellerScoping):
    """Scope a ``ModelAdmin`` on the seller site to the request's seller (see the module docstring).

    ``seller_can_add``, ``seller_can_change`` and ``seller_can_delete`` switch those rights off for a
    model that sellers only look at.
    """

    seller_can_add = True
    seller_can_change = True
    seller_can_delete = True

    def _allowed(self, request: HttpRequest, obj=None) -> bool:
        return self.admin_site.has_permission(request) and (obj is None or self.owns(request, obj))

    def has_module_permission(self, request: HttpRequest) -> bool:
        return self.admin_site.has_permission(request)

    def has_view_permission(self, request: HttpRequest, obj=None) -> bool:
        return self._allowed(request, obj)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return self.seller_can_add and self.admin_site.has_permission(request)

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return self.seller_can_change and self._allowed(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return self.seller_can_delete and self._allowed(request, obj)

    def get_object(self, request: HttpRequest, object_id, from_field=None):
        # Django answers a missing object with a redirect and a message naming the id; another
        # seller's object is simply not there, so: a plain 404, as in the API.
        obj = super().get_object(request, object_id, from_field)
        if obj is None:
            raise Http404("No such object.")
        return obj

    def get_search_results(self, request: HttpRequest, queryset, search_term: str):
        # The changelist and autocomplete already pass the scoped queryset; scoping again keeps a
        # subclass that widens the queryset for its search from leaking other sellers' rows.
        queryset, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        return self.scope_queryset(request, queryset), may_have_duplicates

    def assign_seller(self, request: HttpRequest, obj: models.Model) -> None:
        """Set the seller of a new object whose model holds it directly; nested paths follow from
        the scoped foreign key the seller picked (a variant's product is one of its own)."""
        if "__" not in self.seller_field and self.seller_field != "pk":
            setattr(obj, self.seller_field, self.get_seller(request))

    def save_model(self, request: HttpRequest, obj, form, change: bool) -> None:
        if not change:
            self.assign_seller(request, obj)
        elif not self.owns(request, obj):  # unreachable through get_object; kept as a last guard
            raise Http404("No such object.")
        super().save_model(request, obj, form, change)


class SellerScopedInlineMixin(_SellerScoping):
    """Scope an inline on the seller site. Its parent admin is scoped, so the inline only ever
    shows the children of the seller's own object; its rows are scoped again by ``seller_field``."""

    seller_field = "product__seller"

    def has_view_permission(self, request: HttpRequest, obj=None) -> bool:
        return self.admin_site.has_permission(request) and (obj is None or self._parent_owned(request, obj))

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return self.has_view_permission(request, obj)

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return self.has_view_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return self.has_view_permission(request, obj)

    def _parent_owned(self, request: HttpRequest, parent) -> bool:
        parent_admin = self._registered_admin(type(parent))
        return isinstance(parent_admin, _SellerScoping) and parent_admin.owns(request, parent)
