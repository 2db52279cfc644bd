from django.urls import path

from . import views
from .caching import cached_public_page

app_name = "catalog"


def page(route, view, name):
    """A public page: answered from the cache, or with 304, while the catalog is unchanged."""
    return path(route, cached_public_page(view.as_view()), name=name)


urlpatterns = [
    page("", views.HomeView, "home"),
    page("states/", views.StateListView, "state_list"),
    page("states/<str:code>/", views.StateDetailView, "state_detail"),
    page("memberships/", views.MembershipListView, "membership_list"),
    page("memberships/<slug:key>/", views.MembershipDetailView, "membership_detail"),
    page("summits/", views.SummitListView, "summit_list"),
    page("summits/<slug:key>/", views.SummitDetailView, "summit_detail"),
    page("exercises/", views.ExerciseListView, "exercise_list"),
    page("exercises/series/", views.SeriesListView, "exerciseseries_list"),
    page("exercises/series/<slug:key>/", views.SeriesDetailView, "series_detail"),
    page("exercises/<slug:key>/", views.ExerciseDetailView, "exercise_detail"),
    page("crises/", views.CrisisListView, "crisis_list"),
    page("crises/<slug:key>/", views.CrisisDetailView, "crisis_detail"),
    page("milestones/", views.MilestoneListView, "milestone_list"),
    page("milestones/<slug:key>/", views.MilestoneDetailView, "milestone_detail"),
    page("organization/", views.OrganizationView, "organization"),
    page("timeline/", views.TimelineView, "timeline"),
    page("search/", views.SearchView, "search"),
    page("sources/", views.SourceListView, "source_list"),
    page("sources/<slug:key>/", views.SourceDetailView, "source_detail"),
]
