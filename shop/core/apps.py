from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "shop.core"
    label = "core"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.utils.module_loading import autodiscover_modules

        from shop.core import csrf

        csrf.install()
        # Each app subscribes its outbox handlers in its handlers.py (shop.core.events.handles).
        autodiscover_modules("handlers")
