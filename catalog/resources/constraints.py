"""The model's own check constraints, evaluated in Python on an instance.

Django validates a `CheckConstraint` with a query per constraint per record. An import checks
thousands of records, so here the constraint's condition, the very `Q` the model declares, is
read and evaluated in Python instead: there is no second copy of any rule. A condition this
module does not understand is left to Django's own query, so an unfamiliar constraint is
still checked, only more slowly. SQL semantics are kept: a comparison with NULL is unknown,
and a check passes when its condition is unknown, as in the database.
"""

from django.core.exceptions import ValidationError
from django.db import router
from django.db.models import CheckConstraint, F, Q, Value
from django.db.models.functions import Left, Length


class Unsupported(Exception):
    """A condition this module cannot evaluate; Django's query checks it instead."""


COMPARISONS = {
    "exact": lambda left, right: left == right,
    "gt": lambda left, right: left > right,
    "gte": lambda left, right: left >= right,
    "lt": lambda left, right: left < right,
    "lte": lambda left, right: left <= right,
}


def expression(value, values):
    """The value of a lookup's right-hand side or of a function argument."""
    if isinstance(value, F):
        return field_value(value.name, values)
    if isinstance(value, Value):
        return value.value
    if isinstance(value, Left):
        text, length = (expression(source, values) for source in value.get_source_expressions())
        return None if text is None or length is None else text[:length]
    if isinstance(value, Length):
        (text,) = (expression(source, values) for source in value.get_source_expressions())
        return None if text is None else len(text)
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    raise Unsupported(repr(value))


def field_value(name, values):
    if name not in values:
        raise Unsupported(name)
    return values[name]


def lookup(name, value, values):
    field, _, kind = name.partition("__")
    left = field_value(field, values)
    kind = kind or "exact"
    if kind == "isnull":
        return (left is None) == bool(value)
    if kind == "in":
        if not isinstance(value, list | tuple | set | frozenset):
            raise Unsupported(name)
        items = [expression(item, values) for item in value]
        if left is None:
            return None
        return True if left in items else (None if None in items else False)
    if kind not in COMPARISONS:
        raise Unsupported(name)
    right = expression(value, values)
    if left is None or right is None:
        return None
    return COMPARISONS[kind](left, right)


def evaluate(condition, values):
    """True, False, or None for unknown (SQL's NULL), as the database would answer."""
    if not isinstance(condition, Q):
        if isinstance(condition, tuple) and len(condition) == 2:
            return lookup(*condition, values)
        raise Unsupported(repr(condition))
    results = [evaluate(child, values) for child in condition.children]
    if condition.connector == Q.AND:
        result = False if False in results else (None if None in results else True)
    elif condition.connector == Q.OR:
        result = True if True in results else (None if None in results else False)
    else:
        raise Unsupported(condition.connector)
    if condition.negated:
        return None if result is None else not result
    return result


def referenced_fields(condition):
    """Names of the fields a condition reads (first part of each lookup, and F() names)."""
    names = set()

    def visit(node):
        if isinstance(node, Q):
            for child in node.children:
                visit(child)
        elif isinstance(node, tuple) and len(node) == 2:
            names.add(node[0].partition("__")[0])
            visit(node[1])
        elif isinstance(node, F):
            names.add(node.name)
        elif hasattr(node, "get_source_expressions"):
            for source in node.get_source_expressions():
                visit(source)
        elif isinstance(node, list | tuple):
            for item in node:
                visit(item)

    visit(condition)
    return names


def instance_values(instance):
    """Field values by field name, as the database would compare them."""
    return {field.name: getattr(instance, field.attname) for field in instance._meta.concrete_fields}


def validate_constraints(instance, exclude):
    """`Model.validate_constraints()`, with the check constraints evaluated in Python.

    Constraints reading an excluded field (one that already failed validation) are skipped,
    as Django does; any other constraint is left to Django.
    """
    errors = {}
    values = None
    using = router.db_for_write(type(instance), instance=instance)
    for model_class, constraints in instance.get_constraints():
        for constraint in constraints:
            try:
                if isinstance(constraint, CheckConstraint):
                    if values is None:
                        values = instance_values(instance)
                    check_in_python(constraint, values, exclude)
                else:
                    constraint.validate(model_class, instance, exclude=exclude, using=using)
            except Unsupported:
                try:
                    constraint.validate(model_class, instance, exclude=exclude, using=using)
                except ValidationError as error:
                    errors = error.update_error_dict(errors)
            except ValidationError as error:
                if getattr(error, "code", None) == "unique" and len(getattr(constraint, "fields", ())) == 1:
                    errors.setdefault(constraint.fields[0], []).append(error)
                else:
                    errors = error.update_error_dict(errors)
    if errors:
        raise ValidationError(errors)


def check_in_python(constraint, values, exclude):
    """Raise the constraint's own ValidationError when its condition is false."""
    if exclude and referenced_fields(constraint.condition) & set(exclude):
        return
    if evaluate(constraint.condition, values) is False:
        raise ValidationError(constraint.get_violation_error_message(), code=constraint.violation_error_code)
