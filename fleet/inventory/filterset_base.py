"""The base of Fleet's filtersets: django-filter's, without its copies per request.

A django-filter ``FilterSet`` deep-copies every declared filter when it is made, then builds a form class
from new fields, which the form deep-copies again: for the instance list's nineteen filters that is some
eight hundred ``deepcopy`` calls and a new class on every request, more than the page's count query costs.
Fleet's filters and form fields are configured once, where they are declared (no querysets, no choices or
labels that depend on the request), and nothing changes them while a request is answered, so:

- each filterset gets its own shallow copy of each filter (a filter holds its filterset, ``parent``, and the
  lookup of its ``method`` there, so it cannot be shared as it is);
- the form class is built once per filterset class, and its forms share its fields.
"""

from __future__ import annotations

import copy
from typing import Any, ClassVar

import django_filters
from django import forms
from django_filters.filters import FilterMethod


class _SharedFields(dict[str, forms.Field]):
    """A form class's fields, which its forms use as they are instead of deep-copying them."""

    def __deepcopy__(self, memo: dict[int, Any]) -> dict[str, forms.Field]:
        return dict(self)


class _Filters(dict[str, django_filters.Filter]):
    """A filterset class's filters, which each filterset copies one level deep instead of deep-copying."""

    def __deepcopy__(self, memo: dict[int, Any]) -> dict[str, django_filters.Filter]:
        return {name: _bindable_copy(f) for name, f in self.items()}


def _bindable_copy(declared: django_filters.Filter) -> django_filters.Filter:
    f = copy.copy(declared)
    if isinstance(declared.filter, FilterMethod):
        f.filter = FilterMethod(f)  # looks the method up on the new copy's parent
    return f


class FilterSet(django_filters.FilterSet):
    """A ``django_filters.FilterSet`` for filters and fields that nothing changes per request."""

    _form_class: ClassVar[type[forms.Form] | None] = None

    @classmethod
    def get_filters(cls) -> _Filters:
        return _Filters(super().get_filters())

    def get_form_class(self) -> type[forms.Form]:
        cls = type(self)
        form_class = cls.__dict__.get("_form_class")
        if form_class is None:
            form_class = super().get_form_class()
            form_class.base_fields = _SharedFields(form_class.base_fields)
            cls._form_class = form_class
        return form_class
