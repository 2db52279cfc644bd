"""Build the POST data an admin change form would send, from the page the admin rendered."""

from django.db.models.fields.files import FieldFile


def _put(data, name, value):
    if value is None or isinstance(value, FieldFile) or value is False and name.endswith("-DELETE"):
        return
    if isinstance(value, list | tuple):
        data[name] = [str(item) for item in value]
    elif isinstance(value, bool):
        if value:
            data[name] = "on"
    else:
        data[name] = str(value)


def admin_form_data(response):
    """Every field of the main form and of each inline formset, as currently filled in."""
    data = {}
    form = response.context["adminform"].form
    for name in form.fields:
        _put(data, name, form[name].value())
    inlines = response.context.get("inline_admin_formsets", [])
    for inline in inlines:
        formset = inline.formset
        management = formset.management_form
        for name in management.fields:
            data[management.add_prefix(name)] = management[name].value()
        for inline_form in formset.forms:
            for name in inline_form.fields:
                _put(data, inline_form.add_prefix(name), inline_form[name].value())
    return data


def formset_prefix(response, model):
    """The prefix of the inline formset for `model` on this admin page."""
    for inline in response.context["inline_admin_formsets"]:
        if inline.formset.model is model:
            return inline.formset.prefix
    raise LookupError(f"No inline for {model.__name__} on this page")
