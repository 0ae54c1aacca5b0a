"""The seller back office on the seller admin site: the dashboard (the site's index page) and the
product import. sellers.admin_site owns the site and its gate; this module adds pages to it."""

from sellers.admin_site import seller_admin_site

from . import views

seller_admin_site.index_template = "backoffice/dashboard.html"
seller_admin_site.add_index_context(views.dashboard_context)
seller_admin_site.register_view("import/", views.import_products, name="import_products", label="Import products")
seller_admin_site.register_view("import/example.csv", views.import_example, name="import_example")
