"""Public pages. The full list, filter and detail pages are built on these generic views."""

from django.shortcuts import get_object_or_404
from django.views.generic import DetailView, ListView, TemplateView

from .models import (
    Crisis,
    Exercise,
    ExerciseSeries,
    Membership,
    Milestone,
    Source,
    State,
    Summit,
)


class HomeView(TemplateView):
    template_name = "catalog/home.html"


class StateListView(ListView):
    model = State


class StateDetailView(DetailView):
    model = State

    def get_object(self, queryset=None):
        return get_object_or_404(State, code=self.kwargs["code"].upper())


class KeyDetailView(DetailView):
    slug_field = "key"
    slug_url_kwarg = "key"


class MembershipListView(ListView):
    model = Membership


class MembershipDetailView(KeyDetailView):
    model = Membership


class SummitListView(ListView):
    model = Summit


class SummitDetailView(KeyDetailView):
    model = Summit


class ExerciseListView(ListView):
    model = Exercise


class ExerciseDetailView(KeyDetailView):
    model = Exercise


class SeriesDetailView(KeyDetailView):
    model = ExerciseSeries


class CrisisListView(ListView):
    model = Crisis


class CrisisDetailView(KeyDetailView):
    model = Crisis


class MilestoneDetailView(KeyDetailView):
    model = Milestone


class TimelineView(TemplateView):
    template_name = "catalog/timeline.html"


class SourceListView(ListView):
    model = Source


class SourceDetailView(KeyDetailView):
    model = Source
