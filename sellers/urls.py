app_name = "sellers"
urlpatterns: list = []
