"""Public downloads of a list page's current results, through the same resources as the admin.

`download(queryset, kind, format, filename)` answers csv and json as a stream, rows read
lazily from the database, and xlsx from openpyxl's write-only workbook. Every text cell is
formula-escaped, as in the admin export, and a download imports back through the resource.
"""

import csv
import io
import json
import re

from django.http import HttpResponse, StreamingHttpResponse

from .resources import RESOURCE_FOR_MODEL, CatalogResource, escape_formula

CHUNK_SIZE = 500
CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "json": "application/json",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
FORMATS = tuple(CONTENT_TYPES)


def resource_for(kind):
    """A resource instance from a resource class or instance, or a model."""
    if isinstance(kind, CatalogResource):
        return kind
    if isinstance(kind, type) and issubclass(kind, CatalogResource):
        return kind()
    return RESOURCE_FOR_MODEL[kind]()


def export_rows(resource, queryset):
    """Formula-escaped rows, read from the database a chunk at a time."""
    fields = resource.get_export_fields()
    queryset = resource.filter_export(queryset)
    for record in queryset.iterator(chunk_size=CHUNK_SIZE):
        yield [escape_formula(resource.export_field(field, record)) for field in fields]


class _Line:
    """A file-like object csv.writer writes one line into, read back as it goes."""

    def write(self, text):
        return text


def _csv_stream(headers, rows):
    writer = csv.writer(_Line())
    yield "\ufeff" + writer.writerow(headers)  # a BOM, so spreadsheet programs read UTF-8
    for row in rows:
        yield writer.writerow(row)


def _json_stream(headers, rows):
    yield "["
    for index, row in enumerate(rows):
        separator = "," if index else ""
        yield separator + "\n" + json.dumps(dict(zip(headers, row, strict=True)), ensure_ascii=False)
    yield "\n]\n"


def _xlsx_bytes(title, headers, rows):
    import openpyxl

    book = openpyxl.Workbook(write_only=True)
    sheet = book.create_sheet(title[:31] or "data")
    sheet.append(headers)
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def download(queryset, kind, format, filename):
    """A response offering `queryset` as `filename`.`format` (csv, json or xlsx)."""
    if format not in CONTENT_TYPES:
        raise ValueError(f"Unknown download format '{format}': use one of {', '.join(FORMATS)}")
    resource = resource_for(kind)
    headers = resource.get_export_headers()
    rows = export_rows(resource, queryset)
    if format == "xlsx":
        response = HttpResponse(
            _xlsx_bytes(resource.sheet, headers, rows), content_type=CONTENT_TYPES[format]
        )
    else:
        stream = _csv_stream(headers, rows) if format == "csv" else _json_stream(headers, rows)
        response = StreamingHttpResponse(stream, content_type=CONTENT_TYPES[format])
    safe_name = re.sub(r"[^\w.-]+", "-", filename).strip("-.") or "download"
    response["Content-Disposition"] = f'attachment; filename="{safe_name}.{format}"'
    response["X-Content-Type-Options"] = "nosniff"
    return response
