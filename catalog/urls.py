from django.urls import path

from . import views

app_name = "catalog"

urlpatterns = [
    path("", views.HomeView.as_view(), name="home"),
    path("states/", views.StateListView.as_view(), name="state_list"),
    path("states/<str:code>/", views.StateDetailView.as_view(), name="state_detail"),
    path("memberships/", views.MembershipListView.as_view(), name="membership_list"),
    path("memberships/<slug:key>/", views.MembershipDetailView.as_view(), name="membership_detail"),
    path("summits/", views.SummitListView.as_view(), name="summit_list"),
    path("summits/<slug:key>/", views.SummitDetailView.as_view(), name="summit_detail"),
    path("exercises/", views.ExerciseListView.as_view(), name="exercise_list"),
    path("exercises/series/<slug:key>/", views.SeriesDetailView.as_view(), name="series_detail"),
    path("exercises/<slug:key>/", views.ExerciseDetailView.as_view(), name="exercise_detail"),
    path("crises/", views.CrisisListView.as_view(), name="crisis_list"),
    path("crises/<slug:key>/", views.CrisisDetailView.as_view(), name="crisis_detail"),
    path("milestones/<slug:key>/", views.MilestoneDetailView.as_view(), name="milestone_detail"),
    path("timeline/", views.TimelineView.as_view(), name="timeline"),
    path("sources/", views.SourceListView.as_view(), name="source_list"),
    path("sources/<slug:key>/", views.SourceDetailView.as_view(), name="source_detail"),
]
