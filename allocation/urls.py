"""Pages of the allocation app (round progress and results)."""
urlpatterns: list = []
