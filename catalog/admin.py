"""The catalog in the admins: categories, brands and products for staff (/admin/), and each seller's
own products on the seller site (/seller/, sellers.admin_site).

Products are written through catalog.services on both sites, so the admin keeps the API's rules:
attributes checked against the category's schema, a pending or suspended seller cannot publish,
SKUs unique and well formed, the denormalized listing price kept, and ``catalog.product_*`` events
published. The forms run the same checks first, so a seller sees each problem next to its field.

Variants are added and changed here; they are not deleted (orders will point at them): a product
is archived instead. Stock is the inventory app's, set in the Stock pages (inventory.admin).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponseRedirect

from catalog import services
from catalog.models import Brand, Category, Product, ProductImage, Variant
from sellers.admin_site import SellerScopedAdminMixin, SellerScopedInlineMixin, seller_admin_site
from sellers.models import Seller
from shop.core.admin import ReadOnlyAdminMixin

# --- forms: the services' checks, run while the form validates ------------------------------------


def _messages_by_field(errors: dict[str, list[str]], prefix: str = "") -> dict[str, list[str]]:
    """Service errors keyed ``attributes.colour`` / ``variants.0.sku`` as form field errors."""
    by_field: dict[str, list[str]] = {}
    for key, messages_ in errors.items():
        name = key.removeprefix(prefix)
        field, _, detail = name.partition(".")
        by_field.setdefault(field, []).extend(
            f"{detail}: {m}" if detail and field == "attributes" else m for m in messages_
        )
    return by_field


class ProductForm(forms.ModelForm):
    """Title, category, brand, status and attributes. ``seller`` is set by the admin (the seller
    site's seller, or the product's); on the staff add page it is a field."""

    seller: Seller | None = None

    class Meta:
        model = Product
        fields = ["seller", "title", "description", "category", "brand", "status", "attributes"]

    def clean(self):
        cleaned = super().clean()
        seller = cleaned.get("seller") or self.seller or getattr(self.instance, "seller", None)
        status = cleaned.get("status")
        if seller is not None and status:
            archive_only = bool(self.instance.pk) and self.changed_data == ["status"] and status == "archived"
            try:
                services.product_write_check(seller=seller, status=status, archive_only=archive_only)
            except services.SellerCannotPublish as exc:
                self.add_error("status" if status == Product.Status.ACTIVE else None, str(exc))
        category = cleaned.get("category")
        if category is not None and "attributes" not in self.errors:
            try:
                cleaned["attributes"] = services.product_attributes_clean(
                    category=category, attributes=cleaned.get("attributes")
                )
            except ValidationError as exc:
                for message in _messages_by_field(exc.message_dict).get("attributes", []):
                    self.add_error("attributes", message)
        return cleaned


class VariantInlineForm(forms.ModelForm):
    """One variant. Its SKU is fixed once saved: the services match variants by SKU."""

    class Meta:
        model = Variant
        fields = ["sku", "price", "compare_at_price", "attributes", "weight_grams"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["sku"].disabled = True

    def clean(self):
        cleaned = super().clean()
        if self.errors or not cleaned or cleaned.get("DELETE"):
            return cleaned
        try:
            variant = services.product_variants_clean(
                variants=[_variant_input(cleaned, currency=self.instance.currency)]
            )
        except ValidationError as exc:
            for field, field_messages in _messages_by_field(exc.message_dict, prefix="variants.0.").items():
                for message in field_messages:
                    self.add_error(field if field in self.fields else None, message)
        else:
            cleaned["sku"] = variant[0].sku
        return cleaned


class ProductImageInlineForm(forms.ModelForm):
    class Meta:
        model = ProductImage
        fields = ["original", "alt_text", "position"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["original"].disabled = True  # a new picture is a new image: its renditions differ

    def clean_original(self):
        upload = self.cleaned_data.get("original")
        if upload and not self.instance.pk:
            # the same check as product_image_add: a real JPEG, PNG, WebP or GIF of sensible size
            from catalog import images

            images.validate_image_upload(upload)
        return upload


def _images_changed(product: Product) -> None:
    """Images were removed or reordered: the listing thumbnail is the first ready one again."""
    services.product_images_refresh(product=product)


def _variant_input(data: dict[str, Any], *, currency: str) -> services.VariantInput:
    return services.VariantInput(
        sku=data.get("sku") or "",
        price=data.get("price") if data.get("price") is not None else Decimal(0),
        currency=currency or "EUR",
        compare_at_price=data.get("compare_at_price"),
        attributes=data.get("attributes") or {},
        weight_grams=data.get("weight_grams") or 0,
    )


# --- products: saving through the services --------------------------------------------------------


class _VariantInlineBase(admin.TabularInline):
    model = Variant
    form = VariantInlineForm
    fields = ["sku", "price", "compare_at_price", "attributes", "weight_grams"]
    extra = 1
    min_num = 1  # a product needs a variant (product_create refuses none)
    can_delete = False  # archive the product instead; orders will point at its variants


class _ProductImageInlineBase(admin.TabularInline):
    model = ProductImage
    form = ProductImageInlineForm
    fields = ["original", "alt_text", "position", "status"]
    readonly_fields = ["status"]
    extra = 1


class _ServiceBackedProductAdmin(admin.ModelAdmin):
    """Saves products, variants and images with catalog.services instead of the forms' save()."""

    form = ProductForm
    list_display = ["title", "category", "status", "price", "currency", "updated_at"]
    list_filter = ["status"]
    search_fields = ["title", "=slug", "=variants__sku"]
    list_select_related = ["category"]
    autocomplete_fields = ["category", "brand"]
    readonly_fields = ["slug", "price", "currency", "created_at", "updated_at"]
    show_full_result_count = False  # COUNT(*) over a million products on every page is wasted
    actions = ["archive_products"]

    def form_seller(self, request: HttpRequest, obj: Product | None) -> Seller | None:
        return obj.seller if obj is not None else None

    def get_form(self, request, obj=None, change=False, **kwargs):
        form_class = super().get_form(request, obj, change=change, **kwargs)
        return type(form_class.__name__, (form_class,), {"seller": self.form_seller(request, obj)})

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except (ValidationError, services.SellerCannotPublish) as exc:
            # a rule the forms could not check beforehand (a SKU taken a moment ago): the whole
            # save was rolled back with the admin's transaction
            detail = "; ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
            self.message_user(request, f"Nothing was saved: {detail}", messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())

    def save_model(self, request, obj: Product, form, change: bool) -> None:
        if not change:
            return  # created in save_related, together with its variants
        data = form.cleaned_data
        updates: dict[str, Any] = {}
        for name in ("title", "description", "category", "status", "attributes"):
            if name in form.changed_data:
                updates[name] = data[name]
        if "brand" in form.changed_data:
            updates["brand_name"] = data["brand"].name if data.get("brand") else ""
        if updates:
            services.product_update(product=obj, **updates)

    def save_related(self, request, form, formsets, change: bool) -> None:
        obj: Product = form.instance
        variant_formset = next(fs for fs in formsets if fs.model is Variant)
        image_formsets = [fs for fs in formsets if fs.model is ProductImage]
        variants = [
            _variant_input(f.cleaned_data, currency=obj.currency)
            for f in variant_formset.forms
            if f.cleaned_data and f.has_changed() and not f.cleaned_data.get("DELETE")
        ]
        if not change:
            data = form.cleaned_data
            created = services.product_create(
                seller=self.form_seller(request, obj) or data["seller"],
                title=data["title"],
                category=data["category"],
                description=data.get("description") or "",
                brand_name=data["brand"].name if data.get("brand") else "",
                attributes=data.get("attributes") or {},
                variants=variants,
                status=data["status"],
            )
            # The admin logs and redirects with the object its form built: make it the created one.
            obj.__dict__.update({k: v for k, v in created.__dict__.items() if not k.startswith("_")})
            obj._state.adding = False
        elif variants:
            services.product_update(product=obj, variants=variants)
        variant_formset.new_objects = [v for v in obj.variants.all() if v.sku in {i.sku for i in variants}]
        variant_formset.changed_objects, variant_formset.deleted_objects = [], []
        for formset in image_formsets:
            self._save_images(obj, formset)
        obj.refresh_from_db()

    def _save_images(self, product: Product, formset) -> None:
        formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
        for image_form in formset.forms:
            if not image_form.cleaned_data:
                continue
            instance = image_form.instance
            if image_form.cleaned_data.get("DELETE") and instance.pk:
                formset.deleted_objects.append(instance)
                instance.delete()
            elif not instance.pk and image_form.cleaned_data.get("original"):
                formset.new_objects.append(
                    services.product_image_add(
                        product=product,
                        upload=image_form.cleaned_data["original"],
                        alt_text=image_form.cleaned_data.get("alt_text") or "",
                        position=image_form.cleaned_data.get("position"),
                    )
                )
            elif instance.pk and image_form.has_changed():
                instance.save(update_fields=["alt_text", "position"])
                formset.changed_objects.append((instance, image_form.changed_data))
        if formset.deleted_objects or formset.changed_objects:
            _images_changed(product)

    def has_delete_permission(self, request, obj=None) -> bool:
        # Deleting would bypass the product events (search and caches would keep the product) and
        # orders will point at its variants: archive instead.
        return False

    @admin.action(description="Archive the selected products (hidden from buyers)")
    def archive_products(self, request: HttpRequest, queryset: QuerySet[Product]) -> None:
        archived = 0
        with transaction.atomic():
            for product in queryset.exclude(status=Product.Status.ARCHIVED):
                services.product_archive(product=product)
                archived += 1
        self.message_user(request, f"Archived {archived} product(s).", messages.SUCCESS)


# --- staff ----------------------------------------------------------------------------------------


class CategoryForm(forms.ModelForm):
    class Meta:
        model = Category
        fields = ["name", "slug", "parent", "position", "description", "commission_rate", "attribute_schema"]

    def clean_attribute_schema(self):
        schema = self.cleaned_data.get("attribute_schema") or []
        problems = _attribute_schema_problems(schema)
        if problems:
            raise ValidationError(problems)
        return schema


def _attribute_schema_problems(schema: Any) -> list[str]:
    """What is wrong with an attribute schema typed by staff (the shape catalog.services reads):
    ``[{"name": "screen_size", "type": "number", "required": true, "choices": []}, ...]``."""
    if not isinstance(schema, list):
        return ['The schema is a list of attributes: [{"name": "colour", "type": "text"}, ...].']
    problems, names = [], set()
    for index, entry in enumerate(schema, start=1):
        if not isinstance(entry, dict):
            problems.append(f"Attribute {index} is not an object.")
            continue
        name = entry.get("name")
        if not isinstance(name, str) or not name.strip():
            problems.append(f"Attribute {index} needs a name.")
        elif name in names:
            problems.append(f"The attribute “{name}” appears twice.")
        names.add(name)
        kind = entry.get("type", "text")
        if kind not in services.ATTRIBUTE_TYPES:
            problems.append(f"Attribute {index}: the type is one of {', '.join(services.ATTRIBUTE_TYPES)}.")
        if not isinstance(entry.get("required", False), bool):
            problems.append(f"Attribute {index}: “required” is true or false.")
        choices = entry.get("choices", [])
        if not isinstance(choices, list) or not all(isinstance(c, str) and c for c in choices):
            problems.append(f"Attribute {index}: “choices” is a list of texts.")
        elif kind == "choice" and not choices:
            problems.append(f"Attribute {index}: a choice attribute needs its choices.")
        unknown = set(entry) - {"name", "type", "required", "choices", "label", "unit"}
        if unknown:
            problems.append(f"Attribute {index}: unknown keys {', '.join(sorted(unknown))}.")
    return problems


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    form = CategoryForm
    list_display = ["__str__", "name", "depth", "position", "commission_rate"]
    list_filter = ["depth"]
    search_fields = ["name", "slug", "path"]
    ordering = ["path"]
    autocomplete_fields = ["parent"]
    readonly_fields = ["path", "depth"]
    prepopulated_fields = {"slug": ["name"]}

    def get_readonly_fields(self, request, obj=None):
        # A category's path is in every descendant's path (the materialized path): moving or
        # renaming one in place would strand its subtree, so both stay as created.
        if obj is not None:
            return [*self.readonly_fields, "slug", "parent"]
        return self.readonly_fields

    def get_prepopulated_fields(self, request, obj=None):
        return {} if obj is not None else self.prepopulated_fields


@admin.register(Brand)
class BrandAdmin(admin.ModelAdmin):
    list_display = ["name", "slug"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}


class VariantInline(_VariantInlineBase):
    pass


class ProductImageInline(_ProductImageInlineBase):
    pass


@admin.register(Product)
class ProductAdmin(_ServiceBackedProductAdmin):
    list_display = ["title", "seller", "category", "brand", "status", "price", "currency", "created_at"]
    list_filter = ["status", "seller__status"]
    list_select_related = ["seller", "category", "brand"]
    autocomplete_fields = ["seller", "category", "brand"]
    inlines = [VariantInline, ProductImageInline]
    fieldsets = [
        (None, {"fields": ["seller", "title", "slug", "description", "category", "brand", "status", "attributes"]}),
        ("Listing", {"fields": ["price", "currency", "created_at", "updated_at"]}),
    ]

    def get_readonly_fields(self, request, obj=None):
        # the seller of an existing product is fixed: its variants' SKUs and orders belong to it
        return [*self.readonly_fields, "seller"] if obj is not None else self.readonly_fields


@admin.register(Variant)
class VariantAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """SKU look-up (and the stock admin's autocomplete); variants are edited on their product."""

    list_display = ["sku", "product", "price", "currency", "is_active"]
    search_fields = ["=sku", "product__title"]
    list_select_related = ["product"]
    show_full_result_count = False


# --- the seller site ------------------------------------------------------------------------------


class _SharedLookupAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """A shared model on the seller site: read-only, not in the menu; it answers the autocomplete
    of the product form (all categories, all brands)."""

    def has_module_permission(self, request) -> bool:
        return False

    def has_view_permission(self, request, obj=None) -> bool:
        return self.admin_site.has_permission(request)


@admin.register(Category, site=seller_admin_site)
class SellerCategoryLookupAdmin(_SharedLookupAdmin):
    search_fields = ["name", "path"]
    ordering = ["path"]


@admin.register(Brand, site=seller_admin_site)
class SellerBrandLookupAdmin(_SharedLookupAdmin):
    search_fields = ["name"]


class SellerVariantInline(SellerScopedInlineMixin, _VariantInlineBase):
    seller_field = "product__seller"


class SellerProductImageInline(SellerScopedInlineMixin, _ProductImageInlineBase):
    seller_field = "product__seller"


@admin.register(Product, site=seller_admin_site)
class SellerProductAdmin(SellerScopedAdminMixin, _ServiceBackedProductAdmin):
    seller_field = "seller"
    inlines = [SellerVariantInline, SellerProductImageInline]
    fieldsets = [
        (None, {"fields": ["title", "slug", "description", "category", "brand", "status", "attributes"]}),
        ("Listing", {"fields": ["price", "currency", "created_at", "updated_at"]}),
    ]

    def form_seller(self, request, obj=None) -> Seller:
        return self.get_seller(request)

    def save_model(self, request, obj, form, change):
        # SellerScopedAdminMixin.save_model would save the form's object; the services do it here
        if change and not self.owns(request, obj):
            raise PermissionDenied
        _ServiceBackedProductAdmin.save_model(self, request, obj, form, change)


@admin.register(Variant, site=seller_admin_site)
class SellerVariantAdmin(SellerScopedAdminMixin, admin.ModelAdmin):
    """The seller's SKUs, to look up and to pick in the stock pages; edited on their product."""

    seller_field = "product__seller"
    seller_can_add = seller_can_change = seller_can_delete = False
    list_display = ["sku", "product", "price", "currency", "is_active"]
    search_fields = ["sku", "product__title"]
    list_select_related = ["product"]
