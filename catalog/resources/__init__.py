"""Spreadsheets in and out: one django-import-export resource per catalog kind, natural keys
throughout. The file formats, and their limits, are in catalog/spreadsheets.py."""

from .base import CatalogResource
from .kinds import RESOURCES, CitationResource, ExerciseResource, SummitResource

RESOURCE_FOR_MODEL = {resource._meta.model: resource for resource in RESOURCES}

__all__ = [
    "RESOURCES",
    "RESOURCE_FOR_MODEL",
    "CatalogResource",
    "CitationResource",
    "ExerciseResource",
    "SummitResource",
]
