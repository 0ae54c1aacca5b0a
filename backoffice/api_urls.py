"""The seller API, included under /api/v1/ (namespace "api")."""

from django.urls import path

from . import api

urlpatterns = [
    path("seller/products/", api.SellerProductListApi.as_view(), name="seller-product-list"),
    path("seller/products/<slug:slug>/", api.SellerProductDetailApi.as_view(), name="seller-product-detail"),
    path("seller/stock/<str:sku>/", api.SellerStockApi.as_view(), name="seller-stock"),
    path("seller/reviews/<int:review_id>/reply/", api.SellerReviewReplyApi.as_view(), name="seller-review-reply"),
    path("seller/sub-orders/", api.SellerSubOrderListApi.as_view(), name="seller-sub-order-list"),
    path(
        "seller/sub-orders/<int:sub_order_id>/process/",
        api.SellerSubOrderProcessApi.as_view(),
        name="seller-sub-order-process",
    ),
    path(
        "seller/sub-orders/<int:sub_order_id>/ship/", api.SellerSubOrderShipApi.as_view(), name="seller-sub-order-ship"
    ),
    path(
        "seller/sub-orders/<int:sub_order_id>/deliver/",
        api.SellerSubOrderDeliverApi.as_view(),
        name="seller-sub-order-deliver",
    ),
    path(
        "seller/sub-orders/<int:sub_order_id>/cancel/",
        api.SellerSubOrderCancelApi.as_view(),
        name="seller-sub-order-cancel",
    ),
    path("seller/returns/", api.SellerReturnListApi.as_view(), name="seller-return-list"),
    path("seller/returns/<int:return_id>/approve/", api.SellerReturnApproveApi.as_view(), name="seller-return-approve"),
    path("seller/returns/<int:return_id>/reject/", api.SellerReturnRejectApi.as_view(), name="seller-return-reject"),
]
