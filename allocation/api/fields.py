"""Serializer fields shared by the allocation API's modules."""
from rest_framework import serializers

from allocation.models import ComputeRequest, Round
from allocation.selectors import requests_visible_to, rounds_visible_to


def _user_of(serializer_field):
    request = serializer_field.context.get("request")
    return request.user if request is not None else None


class VisibleRoundField(serializers.PrimaryKeyRelatedField):
    """A round id, among the rounds the person may see (others read as unknown ids)."""

    def __init__(self, **kwargs):
        super().__init__(queryset=Round.objects.all(), **kwargs)

    def get_queryset(self):
        return rounds_visible_to(_user_of(self))


class VisibleRequestField(serializers.PrimaryKeyRelatedField):
    """A compute request id, among the requests the person may see."""

    def __init__(self, **kwargs):
        super().__init__(queryset=ComputeRequest.objects.all(), **kwargs)

    def get_queryset(self):
        return requests_visible_to(_user_of(self))
